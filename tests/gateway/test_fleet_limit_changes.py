"""A limit lowering in a fleet: carried by a deploy proposal, applied by every member,
released under one epoch; a member that does not apply it is fenced; a restart keeps it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import msgspec
import pytest

from interlock.api.config import load_config
from interlock.domain.limit_events import LimitChangeApplied
from interlock.domain.reject import RejectCode, Rejection
from interlock.gateway.auth import Principal, Role
from interlock.gateway.limit_change_config import LimitChangeConfig
from interlock.gateway.limit_changes import LimitChange
from interlock.journal.sqlite import SqliteJournal
from interlock.sim.harness import Harness, build

NONE: frozenset[str] = frozenset()
SHORT_WAIT = load_config().model_copy(
    update={"limit_changes": LimitChangeConfig(fleet_apply_ms=200)}
)  # a member that does not apply is left out after this long
RISK_A = Principal("risk-a", NONE, NONE, Role.RISK)
RISK_B = Principal("risk-b", NONE, NONE, Role.RISK)
QTY = "accounts.desk-7.max_order_qty"
NOTIONAL = "accounts.desk-7.max_order_notional"


def pair(tmp_path: Path) -> tuple[Harness, Harness]:
    h1 = build(SHORT_WAIT, journal=SqliteJournal(tmp_path / "gw-1.db"))
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


def test_a_raise_proposed_on_one_member_is_approved_on_the_other_by_a_second_principal(
    fleet: tuple[Harness, Harness],
) -> None:
    h1, h2 = fleet
    epoch = h1.plane.release().epoch
    for h in fleet:
        assert h.submit(quantity=6000).code is RejectCode.MAX_ORDER_NOTIONAL
    pending = h1.gateway.limit_changes.propose(RISK_A, [(NOTIONAL, "800000")], "desk asks")
    assert isinstance(pending, LimitChange) and pending.status == "pending", pending
    for h in fleet:  # every member lists it, none applies it
        assert [c.change_id for c in h.gateway.limit_changes.pending()] == [pending.change_id]
        assert h.submit(quantity=6000).code is RejectCode.MAX_ORDER_NOTIONAL
    for h in fleet:  # the proposer, on either member
        r = h.gateway.limit_changes.approve(RISK_A, pending.change_id)
        assert isinstance(r, Rejection) and r.code is RejectCode.FOUR_EYES_REQUIRED, r
    done = h2.gateway.limit_changes.approve(RISK_B, pending.change_id)
    assert isinstance(done, LimitChange) and done.status == "applied", done
    assert done.approver == "risk-b"
    release = h1.plane.release()
    assert release.epoch == epoch + 1 and release.members == ("gw-1", "gw-2")
    for h in fleet:
        assert h.gateway.gate.epoch == release.epoch
        assert h.submit(quantity=6000).accepted
        c = h.gateway.limit_changes.change(pending.change_id)
        assert c is not None and (c.status, c.approver) == ("applied", "risk-b")
    again = h2.gateway.limit_changes.approve(RISK_B, pending.change_id)
    assert isinstance(again, Rejection) and again.code is RejectCode.LIMIT_CHANGE_NOT_FOUND


def test_a_raise_declined_on_one_member_can_no_longer_be_approved_on_the_other(
    fleet: tuple[Harness, Harness],
) -> None:
    h1, h2 = fleet
    pending = h1.gateway.limit_changes.propose(RISK_A, [(NOTIONAL, "800000")], "")
    assert isinstance(pending, LimitChange), pending
    declined = h2.gateway.limit_changes.decline(RISK_B, pending.change_id, "not today")
    assert isinstance(declined, LimitChange) and declined.status == "declined", declined
    assert h1.plane.proposal() is None
    r = h1.gateway.limit_changes.approve(RISK_B, pending.change_id)
    assert isinstance(r, Rejection) and r.code is RejectCode.LIMIT_CHANGE_NOT_FOUND, r
    for h in fleet:
        assert h.submit(quantity=6000).code is RejectCode.MAX_ORDER_NOTIONAL


def test_a_change_while_a_raise_waits_in_the_plane_is_refused_LIMIT_CHANGE_FLEET(
    fleet: tuple[Harness, Harness],
) -> None:
    h1, h2 = fleet
    pending = h1.gateway.limit_changes.propose(RISK_A, [(NOTIONAL, "800000")], "")
    assert isinstance(pending, LimitChange), pending
    r = h2.gateway.limit_changes.propose(RISK_B, [(QTY, 3000)], "")
    assert isinstance(r, Rejection) and r.code is RejectCode.LIMIT_CHANGE_FLEET, r
    assert "could not be released to the fleet" in r.reason and "pending" in r.reason
    for h in fleet:
        assert h.gateway.book.limits.account("desk-7").max_order_qty == 10_000


def test_a_self_approved_raise_written_into_the_plane_is_not_applied_by_any_member(
    fleet: tuple[Harness, Harness],
) -> None:
    h1 = fleet[0]
    pending = h1.gateway.limit_changes.propose(RISK_A, [(QTY, 15_000)], "")
    assert isinstance(pending, LimitChange), pending
    p = h1.plane.proposal()
    assert p is not None and p.limits is not None
    h1.plane.abort_proposal("mallory", "forging")
    forged = replace(p, limits=msgspec.structs.replace(p.limits, approver="risk-a"))
    assert h1.plane.put_proposal(forged)  # the proposer as the approver: one pair of eyes
    for h in fleet:
        assert h.gateway.book.limits.account("desk-7").max_order_qty == 10_000
        assert h.submit(quantity=12_000).code is RejectCode.MAX_ORDER_QTY


def test_a_member_that_does_not_apply_is_fenced_and_refuses_orders(
    fleet: tuple[Harness, Harness], monkeypatch: pytest.MonkeyPatch
) -> None:
    h1, h2 = fleet
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


def test_a_fenced_member_restarted_on_the_new_limits_in_its_config_routes_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    h1, h2 = pair(tmp_path)
    try:
        monkeypatch.setattr(h2.gateway.limit_changes, "apply_fleet", lambda change, epoch: False)
        assert isinstance(h1.gateway.limit_changes.propose(RISK_A, [(QTY, 3000)], ""),
                          LimitChange)  # fmt: skip
        assert h2.submit(quantity=100).code is RejectCode.INSTANCE_NOT_ATTESTED
        h2.gateway.close()
        in_force = h1.gateway.book.limits  # what the operator writes into gw-2's [limits]
        cfg2 = h2.gateway.config.model_copy(update={"limits": in_force})
        h2 = build(cfg2, journal=SqliteJournal(tmp_path / "gw-2.db"), plane=h1.plane,
                   clock=h1.clock, restart_of=h2)  # fmt: skip
        assert h2.gateway.attestation.config_digest == h1.plane.release().config_digest
        assert h2.submit(quantity=3000).accepted
        assert h2.submit(quantity=3001).code is RejectCode.MAX_ORDER_QTY
    finally:
        for h in (h2, h1):
            h.gateway.close()


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
