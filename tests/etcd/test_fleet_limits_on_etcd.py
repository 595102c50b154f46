"""Fleet limit changes on a real 3-node etcd cluster: a lowering proposed on one gateway
and a raise approved on the other by a second risk principal, applied by both members from
their watch and released under one epoch; a restarted member keeps them; a member that
fails to apply is fenced."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from interlock.api.config import load_config
from interlock.control.etcd_plane import EtcdControlPlane
from interlock.control.plane import Release
from interlock.domain.reject import RejectCode, Rejection
from interlock.gateway.auth import Principal, Role
from interlock.gateway.limit_change_config import LimitChangeConfig
from interlock.gateway.limit_changes import LimitChange
from interlock.journal.sqlite import SqliteJournal
from interlock.sim.etcd_cluster import EtcdCluster
from interlock.sim.harness import Harness, build
from interlock.sim.serve_fleet import wait_until

NONE: frozenset[str] = frozenset()
SHORT_WAIT = load_config().model_copy(
    update={"limit_changes": LimitChangeConfig(fleet_apply_ms=1000)}
)  # a member that does not apply is left out after this long
RISK_A = Principal("risk-a", NONE, NONE, Role.RISK)
RISK_B = Principal("risk-b", NONE, NONE, Role.RISK)
QTY = "accounts.desk-7.max_order_qty"
NOTIONAL = "accounts.desk-7.max_order_notional"


@dataclass
class Pair:
    """gw-1 and gw-2, each on its own client of one fleet prefix; `planes[2]` an operator's."""

    planes: list[EtcdControlPlane]
    members: list[Harness]
    tmp_path: Path

    def restart_gw2(self) -> Harness:
        old = self.members[1]
        old.gateway.close()
        h2 = build(old.gateway.config, journal=SqliteJournal(self.tmp_path / "gw-2.db"),
                   plane=self.planes[1], clock=old.clock, restart_of=old)  # fmt: skip
        self.members[1] = h2
        h2.gateway.start_heartbeat()
        return h2


def released_to_both(pair: Pair, epoch: int) -> Release:
    """The release after `epoch`, naming both members, once both adopted it."""
    release = pair.planes[2].release()
    assert (release.epoch, release.members) == (epoch + 1, ("gw-1", "gw-2"))
    wait_until(lambda: all(h.gateway.gate.epoch == release.epoch for h in pair.members), 10,
               "both members adopt the new epoch")  # fmt: skip
    return release


@pytest.fixture
def pair(etcd_cluster: EtcdCluster, tmp_path: Path) -> Iterator[Pair]:
    url, prefix = f"etcd://{etcd_cluster.endpoints}", f"test/{uuid.uuid4().hex}"
    planes = [EtcdControlPlane(url, prefix=prefix) for _ in range(3)]
    h1 = build(SHORT_WAIT, journal=SqliteJournal(tmp_path / "gw-1.db"), plane=planes[0])
    cfg2 = h1.gateway.config.model_copy(update={"instance_id": "gw-2"})
    h2 = build(cfg2, journal=SqliteJournal(tmp_path / "gw-2.db"), plane=planes[1],
               clock=h1.clock)  # fmt: skip
    p = Pair(planes, [h1, h2], tmp_path)
    try:
        for h in p.members:
            h.gateway.start_heartbeat()
        wait_until(lambda: all(len(h.gateway.gate.members) == 2 for h in p.members), 10,
                   "2 members")  # fmt: skip
        yield p
    finally:
        for h in reversed(p.members):
            h.gateway.close()
        for plane in planes:
            plane.close()


def test_a_lowering_proposed_on_one_member_is_in_force_on_both_under_one_epoch(
    pair: Pair,
) -> None:
    h1, h2 = both = pair.members
    epoch = pair.planes[2].release().epoch
    for h in both:
        assert h.submit(quantity=4000).accepted
    done = h1.gateway.limit_changes.propose(RISK_A, [(QTY, 3000)], "tighten for the open")
    assert isinstance(done, LimitChange) and done.status == "applied", done
    release = released_to_both(pair, epoch)
    for h in both:
        assert h.gateway.book.limits.account("desk-7").max_order_qty == 3000
        assert h.gateway.attestation.config_digest == release.config_digest
        assert h.submit(quantity=4000).code is RejectCode.MAX_ORDER_QTY
        assert h.submit(quantity=3000).accepted
    h2 = pair.restart_gw2()  # on its journal
    assert h2.gateway.book.limits.account("desk-7").max_order_qty == 3000
    assert h2.gateway.attestation.config_digest == release.config_digest
    assert h2.submit(quantity=2900).accepted  # attested on the release: it routes
    assert h2.submit(quantity=3001).code is RejectCode.MAX_ORDER_QTY


def test_a_member_that_fails_to_apply_is_left_out_and_refuses_orders(
    pair: Pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    h1, h2 = pair.members
    monkeypatch.setattr(h2.gateway.limit_changes, "apply_fleet", lambda change, epoch: False)
    done = h1.gateway.limit_changes.propose(RISK_A, [(QTY, 3000)], "")
    assert isinstance(done, LimitChange) and done.status == "applied", done
    release = pair.planes[2].release()
    assert release.members == ("gw-1",)
    wait_until(lambda: h2.gateway.gate.fleet_epoch == release.epoch, 10, "gw-2 hears it")
    assert h2.gateway.book.limits.account("desk-7").max_order_qty == 10_000
    fenced = h2.submit(quantity=4000)
    assert fenced.code is RejectCode.INSTANCE_NOT_ATTESTED, fenced
    assert h1.submit(quantity=3000).accepted


def test_a_raise_proposed_on_one_member_and_approved_on_the_other_is_in_force_on_both(
    pair: Pair,
) -> None:
    h1, h2 = both = pair.members
    epoch = pair.planes[2].release().epoch
    for h in both:
        assert h.submit(quantity=6000).code is RejectCode.MAX_ORDER_NOTIONAL
    pending = h1.gateway.limit_changes.propose(RISK_A, [(NOTIONAL, "800000")], "desk asks")
    assert isinstance(pending, LimitChange) and pending.status == "pending", pending
    wait_until(lambda: bool(h2.gateway.limit_changes.pending()), 10, "gw-2 lists it")
    for h in both:
        r = h.gateway.limit_changes.approve(RISK_A, pending.change_id)
        assert isinstance(r, Rejection) and r.code is RejectCode.FOUR_EYES_REQUIRED, r
    done = h2.gateway.limit_changes.approve(RISK_B, pending.change_id)
    assert isinstance(done, LimitChange) and done.status == "applied", done
    released_to_both(pair, epoch)
    for h in both:
        assert h.submit(quantity=6000).accepted
