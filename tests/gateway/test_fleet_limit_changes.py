"""A limit lowering in a fleet: carried by a deploy proposal, applied by every member,
released under one epoch; a member that does not apply it is fenced; a restart keeps it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from interlock.domain.limit_events import LimitChangeApplied
from interlock.domain.reject import RejectCode, Rejection
from interlock.gateway.auth import Principal, Role
from interlock.gateway.limit_changes import LimitChange
from interlock.journal.sqlite import SqliteJournal
from interlock.sim.harness import Harness, build

NONE: frozenset[str] = frozenset()
RISK_A = Principal("risk-a", NONE, NONE, Role.RISK)
RISK_B = Principal("risk-b", NONE, NONE, Role.RISK)
QTY = "accounts.desk-7.max_order_qty"


def pair(tmp_path: Path) -> tuple[Harness, Harness]:
    h1 = build(journal=SqliteJournal(tmp_path / "gw-1.db"))
    cfg2 = h1.gateway.config.model_copy(update={"instance_id": "gw-2"})
    h2 = build(cfg2, journal=SqliteJournal(tmp_path / "gw-2.db"), plane=h1.plane,
               clock=h1.clock)  # fmt: skip
    return h1, h2


@pytest.fixture
def fleet(tmp_path: Path) -> Iterator[tuple[Harness, Harness]]:
    h1, h2 = pair(tmp_path)
    yield h1, h2
    for h in (h2, h1):
        h.gateway.close()


def test_a_lowering_on_one_member_applies_on_both_under_one_new_epoch(
    fleet: tuple[Harness, Harness],
) -> None:
    h1, h2 = fleet
    epoch = h1.plane.release().epoch
    for h in fleet:
        assert h.submit(quantity=4000).accepted
    done = h2.gateway.limit_changes.propose(RISK_A, [(QTY, 3000)], "tighten for the open")
    assert isinstance(done, LimitChange) and done.status == "applied", done
    release = h1.plane.release()
    assert release.epoch == epoch + 1 and release.members == ("gw-1", "gw-2")
    for h in fleet:
        assert h.gateway.book.limits.account("desk-7").max_order_qty == 3000
        assert h.gateway.attestation.config_digest == release.config_digest
        assert h.gateway.gate.epoch == release.epoch
        assert h.submit(quantity=4000).code is RejectCode.MAX_ORDER_QTY
        assert h.submit(quantity=3000).accepted
        h.journal.flush()
        applied = [e for _, e in h.journal.read() if isinstance(e, LimitChangeApplied)]
        assert [(e.change_id, e.epoch) for e in applied] == [(done.change_id, epoch + 1)]


def test_a_raise_in_a_fleet_is_still_refused_and_neither_moves(
    fleet: tuple[Harness, Harness],
) -> None:
    for h in fleet:
        r = h.gateway.limit_changes.propose(RISK_A, [(QTY, 20000)], "")
        assert isinstance(r, Rejection) and r.code is RejectCode.LIMIT_CHANGE_FLEET, r
        assert h.gateway.book.limits.account("desk-7").max_order_qty == 10_000


def test_a_member_that_does_not_apply_is_fenced_and_refuses_orders(
    fleet: tuple[Harness, Harness], monkeypatch: pytest.MonkeyPatch
) -> None:
    h1, h2 = fleet
    h1.gateway.config.limit_changes.__dict__["fleet_apply_ms"] = 50  # a short wait
    monkeypatch.setattr(h2.gateway.limit_changes, "apply_fleet", lambda change, epoch: False)
    done = h1.gateway.limit_changes.propose(RISK_A, [(QTY, 3000)], "")
    assert isinstance(done, LimitChange) and done.status == "applied", done
    release = h1.plane.release()
    assert release.members == ("gw-1",)
    assert h1.submit(quantity=3000).accepted
    assert h1.submit(quantity=4000).code is RejectCode.MAX_ORDER_QTY
    assert h2.gateway.book.limits.account("desk-7").max_order_qty == 10_000
    fenced = h2.submit(quantity=4000)
    assert fenced.code is RejectCode.INSTANCE_NOT_ATTESTED, fenced  # its config is not released
    assert h2.gateway.gate.epoch == release.epoch - 1  # and its epoch is behind: STALE_EPOCH
    assert h2.plane.proposal() is None  # nothing left pending


def test_a_restarted_member_rebuilds_the_fleet_limits_and_routes_on_the_release(
    tmp_path: Path,
) -> None:
    h1, h2 = pair(tmp_path)
    try:
        done = h1.gateway.limit_changes.propose(RISK_A, [(QTY, 3000)], "")
        assert isinstance(done, LimitChange), done
        released = h1.plane.release()
        h2.gateway.close()
        h2 = build(h2.gateway.config, journal=SqliteJournal(tmp_path / "gw-2.db"),
                   plane=h1.plane, clock=h1.clock, restart_of=h2)  # fmt: skip
        assert h2.gateway.book.limits.account("desk-7").max_order_qty == 3000
        assert h2.gateway.attestation.config_digest == released.config_digest
        assert h2.submit(quantity=3000).accepted
        assert h2.submit(quantity=4000).code is RejectCode.MAX_ORDER_QTY
        again = h2.gateway.limit_changes.propose(RISK_B, [(QTY, 2000)], "")
        assert isinstance(again, LimitChange) and again.change_id != done.change_id, again
        assert h1.plane.release().epoch == released.epoch + 1
    finally:
        for h in (h2, h1):
            h.gateway.close()
