"""Fleet limit changes on a real 3-node etcd cluster: a lowering proposed on one gateway
and a raise approved on the other by a second risk principal, applied by both members from
their watch and released under one epoch; a restarted member keeps them; a member that
fails to apply is fenced."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from interlock.control.etcd_plane import EtcdControlPlane
from interlock.domain.reject import RejectCode, Rejection
from interlock.gateway.auth import Principal, Role
from interlock.gateway.limit_changes import LimitChange
from interlock.journal.sqlite import SqliteJournal
from interlock.sim.etcd_cluster import EtcdCluster
from interlock.sim.harness import Harness, build
from interlock.sim.serve_fleet import wait_until

NONE: frozenset[str] = frozenset()
RISK_A = Principal("risk-a", NONE, NONE, Role.RISK)
RISK_B = Principal("risk-b", NONE, NONE, Role.RISK)
QTY = "accounts.desk-7.max_order_qty"
NOTIONAL = "accounts.desk-7.max_order_notional"


def test_a_lowering_proposed_on_one_member_is_in_force_on_both_under_one_epoch(
    etcd_cluster: EtcdCluster, tmp_path: Path
) -> None:
    url, prefix = f"etcd://{etcd_cluster.endpoints}", f"test/{uuid.uuid4().hex}"
    planes = [EtcdControlPlane(url, prefix=prefix) for _ in range(3)]
    h1 = build(journal=SqliteJournal(tmp_path / "gw-1.db"), plane=planes[0])
    cfg2 = h1.gateway.config.model_copy(update={"instance_id": "gw-2"})
    h2 = build(cfg2, journal=SqliteJournal(tmp_path / "gw-2.db"), plane=planes[1],
               clock=h1.clock)  # fmt: skip
    both: list[Harness] = [h1, h2]
    try:
        for h in both:
            h.gateway.start_heartbeat()
        wait_until(lambda: all(len(h.gateway.gate.members) == 2 for h in both), 10, "2 members")
        epoch = planes[2].release().epoch
        for h in both:
            assert h.submit(quantity=4000).accepted
        done = h1.gateway.limit_changes.propose(RISK_A, [(QTY, 3000)], "tighten for the open")
        assert isinstance(done, LimitChange) and done.status == "applied", done
        release = planes[2].release()
        assert (release.epoch, release.members) == (epoch + 1, ("gw-1", "gw-2"))
        wait_until(lambda: all(h.gateway.gate.epoch == release.epoch for h in both), 10,
                   "both members adopt the new epoch")  # fmt: skip
        for h in both:
            assert h.gateway.book.limits.account("desk-7").max_order_qty == 3000
            assert h.gateway.attestation.config_digest == release.config_digest
            assert h.submit(quantity=4000).code is RejectCode.MAX_ORDER_QTY
            assert h.submit(quantity=3000).accepted
        h2.gateway.close()  # a restart of gw-2 on its journal
        h2 = build(cfg2, journal=SqliteJournal(tmp_path / "gw-2.db"), plane=planes[1],
                   clock=h1.clock, restart_of=h2)  # fmt: skip
        both[1] = h2
        h2.gateway.start_heartbeat()
        assert h2.gateway.book.limits.account("desk-7").max_order_qty == 3000
        assert h2.gateway.attestation.config_digest == release.config_digest
        assert h2.submit(quantity=2900).accepted  # attested on the release: it routes
        assert h2.submit(quantity=3001).code is RejectCode.MAX_ORDER_QTY
    finally:
        for h in reversed(both):
            h.gateway.close()
        for p in planes:
            p.close()


def test_a_member_that_fails_to_apply_is_left_out_and_refuses_orders(
    etcd_cluster: EtcdCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, prefix = f"etcd://{etcd_cluster.endpoints}", f"test/{uuid.uuid4().hex}"
    planes = [EtcdControlPlane(url, prefix=prefix) for _ in range(2)]
    h1 = build(journal=SqliteJournal(tmp_path / "gw-1.db"), plane=planes[0])
    cfg2 = h1.gateway.config.model_copy(update={"instance_id": "gw-2"})
    h2 = build(cfg2, journal=SqliteJournal(tmp_path / "gw-2.db"), plane=planes[1],
               clock=h1.clock)  # fmt: skip
    try:
        for h in (h1, h2):
            h.gateway.start_heartbeat()
        wait_until(lambda: all(len(h.gateway.gate.members) == 2 for h in (h1, h2)), 10, "2")
        h1.gateway.config.limit_changes.__dict__["fleet_apply_ms"] = 300  # a short wait
        monkeypatch.setattr(h2.gateway.limit_changes, "apply_fleet", lambda change, epoch: False)
        done = h1.gateway.limit_changes.propose(RISK_A, [(QTY, 3000)], "")
        assert isinstance(done, LimitChange) and done.status == "applied", done
        release = planes[0].release()
        assert release.members == ("gw-1",)
        wait_until(lambda: h2.gateway.gate.fleet_epoch == release.epoch, 10, "gw-2 hears it")
        assert h2.gateway.book.limits.account("desk-7").max_order_qty == 10_000
        fenced = h2.submit(quantity=4000)
        assert fenced.code is RejectCode.INSTANCE_NOT_ATTESTED, fenced
        assert h1.submit(quantity=3000).accepted
    finally:
        for h in (h2, h1):
            h.gateway.close()
        for p in planes:
            p.close()


def test_a_raise_proposed_on_one_member_and_approved_on_the_other_is_in_force_on_both(
    etcd_cluster: EtcdCluster, tmp_path: Path
) -> None:
    url, prefix = f"etcd://{etcd_cluster.endpoints}", f"test/{uuid.uuid4().hex}"
    planes = [EtcdControlPlane(url, prefix=prefix) for _ in range(2)]
    h1 = build(journal=SqliteJournal(tmp_path / "gw-1.db"), plane=planes[0])
    cfg2 = h1.gateway.config.model_copy(update={"instance_id": "gw-2"})
    h2 = build(cfg2, journal=SqliteJournal(tmp_path / "gw-2.db"), plane=planes[1],
               clock=h1.clock)  # fmt: skip
    both = (h1, h2)
    try:
        for h in both:
            h.gateway.start_heartbeat()
        wait_until(lambda: all(len(h.gateway.gate.members) == 2 for h in both), 10, "2")
        epoch = planes[0].release().epoch
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
        release = planes[0].release()
        assert (release.epoch, release.members) == (epoch + 1, ("gw-1", "gw-2"))
        wait_until(lambda: all(h.gateway.gate.epoch == release.epoch for h in both), 10,
                   "both members adopt the new epoch")  # fmt: skip
        for h in both:
            assert h.submit(quantity=6000).accepted
    finally:
        for h in (h2, h1):
            h.gateway.close()
        for p in planes:
            p.close()
