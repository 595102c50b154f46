"""Limit changes on a live gateway: a lowering applies at once, a raise waits for a second
risk principal, and every step survives a restart on the SQLite journal."""

from __future__ import annotations

from pathlib import Path

import pytest

from interlock.domain.events import LimitsLoaded, OrderDecided
from interlock.domain.limit_events import (
    LimitChangeApplied,
    LimitChangeApproved,
    LimitChangeProposed,
    LimitItem,
)
from interlock.domain.reject import RejectCode, Rejection
from interlock.gateway.auth import Principal, Role
from interlock.gateway.limit_changes import LimitChange
from interlock.journal.sqlite import SqliteJournal
from interlock.sim.harness import MM_KEY, START_NS, Harness, ManualClock, build, config_with

NONE: frozenset[str] = frozenset()
RISK_A = Principal("risk-a", NONE, NONE, Role.RISK)
RISK_A_SECOND_KEY = Principal("risk-a", NONE, NONE, Role.RISK)  # another key, same person
RISK_B = Principal("risk-b", NONE, NONE, Role.RISK)
TRADER = Principal("desk", frozenset({"desk-7"}), frozenset({"*"}), Role.TRADER)
OPERATOR = Principal("ops", NONE, NONE, Role.OPERATOR)
QTY = "accounts.desk-7.max_order_qty"


def changed(result: LimitChange | Rejection) -> LimitChange:
    assert isinstance(result, LimitChange), result
    return result


def refused(result: LimitChange | Rejection, code: RejectCode) -> Rejection:
    assert isinstance(result, Rejection), result
    assert result.code is code, result.message
    return result


def lowered_to_3000(h: Harness) -> None:
    c = changed(h.gateway.limit_changes.propose(RISK_A, [(QTY, 3000)], "tighten for the open"))
    assert (c.status, c.raises, c.items) == ("applied", False, (LimitItem(QTY, "10000", "3000"),))


def test_a_lowering_applies_at_once_and_a_raise_only_after_another_risk_principal() -> None:
    h = build()
    changes = h.gateway.limit_changes
    assert h.submit(quantity=3999).accepted
    lowered_to_3000(h)
    assert h.submit(quantity=4000).code is RejectCode.MAX_ORDER_QTY
    raise_ = changed(changes.propose(RISK_A, [(QTY, 5000)], "desk asks for more"))
    assert (raise_.status, raise_.raises) == ("pending", True)
    assert h.submit(quantity=4000).code is RejectCode.MAX_ORDER_QTY  # still refused: pending
    refused(changes.approve(RISK_A, raise_.change_id), RejectCode.FOUR_EYES_REQUIRED)
    refused(changes.approve(RISK_A_SECOND_KEY, raise_.change_id), RejectCode.FOUR_EYES_REQUIRED)
    done = changed(changes.approve(RISK_B, raise_.change_id))
    assert (done.status, done.approver) == ("applied", "risk-b")
    assert h.submit(quantity=4000).accepted
    assert h.submit(quantity=5001).code is RejectCode.MAX_ORDER_QTY


def test_decisions_cite_the_limits_in_force_after_a_change() -> None:
    h = build()
    before = h.gateway.book.limits.digest()
    lowered_to_3000(h)
    d = h.submit(quantity=100)
    h.journal.flush()
    records = [e for _, e in h.journal.read()]
    cited = [e for e in records if isinstance(e, OrderDecided) and e.order_id == d.order_id]
    loaded = [e.digest for e in records if isinstance(e, LimitsLoaded)]
    assert cited[0].limits_digest == loaded[-1] == h.gateway.book.limits.digest() != before


def test_a_trader_or_operator_may_not_propose_or_approve() -> None:
    h = build()
    changes = h.gateway.limit_changes
    for who in (TRADER, OPERATOR):
        refused(changes.propose(who, [(QTY, 3000)], ""), RejectCode.UNAUTHENTICATED)
    pending = changed(changes.propose(RISK_A, [(QTY, 20000)], ""))
    for who in (TRADER, OPERATOR):
        refused(changes.approve(who, pending.change_id), RejectCode.UNAUTHENTICATED)
    assert h.gateway.book.limits.account("desk-7").max_order_qty == 10_000


def test_approving_twice_is_refused_the_second_time() -> None:
    h = build()
    changes = h.gateway.limit_changes
    c = changed(changes.propose(RISK_A, [(QTY, 20000)], ""))
    changed(changes.approve(RISK_B, c.change_id))
    last = h.journal.last_seq
    r = refused(changes.approve(RISK_B, c.change_id), RejectCode.LIMIT_CHANGE_NOT_FOUND)
    assert r.reason == f"limit change {c.change_id} is applied, not pending"
    assert h.journal.last_seq == last  # nothing journaled, nothing applied again


def test_a_raise_whose_old_value_moved_is_refused_stale() -> None:
    h = build()
    changes = h.gateway.limit_changes
    c = changed(changes.propose(RISK_A, [(QTY, 20000)], "more"))
    lowered_to_3000(h)  # lands in between
    r = refused(changes.approve(RISK_B, c.change_id), RejectCode.LIMIT_CHANGE_STALE)
    assert "is 3000 now, not 10000 as proposed" in r.reason
    assert h.gateway.book.limits.account("desk-7").max_order_qty == 3000


def test_a_default_change_moves_the_accounts_that_inherit_it_and_stales_their_raises() -> None:
    h = build()
    changes = h.gateway.limit_changes
    c = changed(changes.propose(RISK_A, [(QTY, 20000)], ""))
    changed(changes.propose(RISK_A, [("defaults.max_order_qty", 2000)], ""))
    assert h.submit(quantity=2500).code is RejectCode.MAX_ORDER_QTY
    mm = h.submit(MM_KEY, account="mm-1", strategy="mm", quantity=2500)
    assert mm.code is RejectCode.MAX_ORDER_QTY
    refused(changes.approve(RISK_B, c.change_id), RejectCode.LIMIT_CHANGE_STALE)


def test_a_mixed_change_is_a_raise() -> None:
    h = build()
    c = changed(h.gateway.limit_changes.propose(
        RISK_A, [(QTY, 3000), ("accounts.desk-7.max_position", 30000)], "swap"))  # fmt: skip
    assert (c.raises, c.status) == (True, "pending")
    assert h.submit(quantity=4000).accepted  # the lowering half waits with the raise


def test_a_raise_expires_after_the_configured_time() -> None:
    clock = ManualClock(START_NS)
    h = build(clock=clock)
    changes = h.gateway.limit_changes
    c = changed(changes.propose(RISK_A, [(QTY, 20000)], ""))
    assert c.expires_ts == START_NS + h.gateway.config.limit_changes.pending_ttl_ms * 1_000_000
    clock.advance_ms((c.expires_ts - START_NS) / 1_000_000 - 1)
    assert changes.changes()[0].status == "pending"  # a millisecond before
    clock.advance_ms(1)
    assert changes.changes()[0].status == "expired"
    refused(changes.approve(RISK_B, c.change_id), RejectCode.LIMIT_CHANGE_NOT_FOUND)


def test_a_declined_raise_never_applies() -> None:
    h = build()
    changes = h.gateway.limit_changes
    c = changed(changes.propose(RISK_A, [(QTY, 20000)], ""))
    d = changed(changes.decline(RISK_B, c.change_id, "not today"))
    assert (d.status, d.closed_by, d.close_reason) == ("declined", "risk-b", "not today")
    refused(changes.approve(RISK_B, c.change_id), RejectCode.LIMIT_CHANGE_NOT_FOUND)


@pytest.mark.parametrize(
    ("path", "value", "why"),
    [
        (QTY, 0, "accounts.desk-7.max_order_qty: Input should be greater than 0"),
        (QTY, "12.5", "accounts.desk-7.max_order_qty: Input should be a valid integer"),
        (QTY, True, "accounts.desk-7.max_order_qty"),
        ("accounts.desk-7.max_order_notional", "-1", "greater than or equal to 0"),
        ("accounts.nobody.max_order_qty", 1, "no account nobody"),
        ("collar.continuous_bps", 1, "not one that can change at run time"),
        ("accounts.desk-7.restricted_symbols", 1, "not a changeable field"),
        ("defaults.position_overrides.NOPE", 1, "NOPE is not a listed instrument"),
        (QTY, 10000, "already 10000"),
    ],
)
def test_an_invalid_change_is_refused_CONFIG_INVALID(path: str, value: object, why: str) -> None:
    h = build()
    last = h.journal.last_seq
    r = refused(h.gateway.limit_changes.propose(RISK_A, [(path, value)], ""),
                RejectCode.CONFIG_INVALID)  # fmt: skip
    assert why in r.reason
    assert h.journal.last_seq == last


def test_money_and_override_paths_change_what_the_checks_compare() -> None:
    h = build()
    changes = h.gateway.limit_changes
    changed(changes.propose(RISK_A, [("accounts.desk-7.max_order_notional", "150000.50")], ""))
    assert h.submit(quantity=1600).code is RejectCode.MAX_ORDER_NOTIONAL
    changed(changes.propose(RISK_A, [("accounts.desk-7.position_overrides.AAPL", 1000)], ""))
    assert h.submit(quantity=1200).code is RejectCode.POSITION_LIMIT
    assert h.submit(symbol="TSLA", quantity=1200).accepted  # its own override stayed


def test_after_a_restart_the_approved_limits_and_pending_raises_are_back(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    h = build(journal=SqliteJournal(path))
    changes = h.gateway.limit_changes
    lowered_to_3000(h)
    approved = changed(changes.propose(RISK_A, [("accounts.desk-7.max_position", 25000)], ""))
    changed(changes.approve(RISK_B, approved.change_id))
    waiting = changed(changes.propose(RISK_A, [(QTY, 5000)], "later"))
    before = changes.changes()
    digest = h.gateway.book.limits.digest()
    h.gateway.close()

    h2 = build(journal=SqliteJournal(path), restart_of=h)
    again = h2.gateway.limit_changes
    assert again.changes() == before
    assert h2.gateway.book.limits.digest() == digest
    assert h2.gateway.book.limits.account("desk-7").max_position == 25000
    assert h2.submit(quantity=4000).code is RejectCode.MAX_ORDER_QTY  # not the config's 10000
    refused(again.approve(RISK_A, waiting.change_id), RejectCode.FOUR_EYES_REQUIRED)
    changed(again.approve(RISK_B, waiting.change_id))
    assert h2.submit(quantity=4000).accepted
    nxt = changed(again.propose(RISK_A, [(QTY, 100)], ""))
    assert nxt.change_id == "LC-4"  # ids go on from the journal's, never reused
    kinds = [type(e) for _, e in h2.journal.read()]
    assert kinds.count(LimitChangeProposed) == 4 and kinds.count(LimitChangeApproved) == 2
    assert kinds.count(LimitChangeApplied) == 4
    h2.gateway.close()


def test_a_restart_without_changes_journals_no_new_limits_record(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    h = build(journal=SqliteJournal(path))
    lowered_to_3000(h)
    h.gateway.close()
    h2 = build(journal=SqliteJournal(path), restart_of=h)
    h2.journal.flush()
    loaded = [e for _, e in h2.journal.read() if isinstance(e, LimitsLoaded)]
    assert len(loaded) == 2  # the config's, then the change's: the restart added none
    h2.gateway.close()


def test_a_raise_left_pending_by_a_lone_member_is_not_approvable_once_others_are_live() -> None:
    h1 = build()
    pending = changed(h1.gateway.limit_changes.propose(RISK_A, [(QTY, 20000)], ""))
    h2 = build(config=h1.gateway.config.model_copy(update={"instance_id": "gw-2"}),
               plane=h1.plane, clock=h1.clock)  # fmt: skip
    try:
        for h in (h1, h2):  # its four eyes are in gw-1's journal, not the fleet's plane
            refused(h.gateway.limit_changes.approve(RISK_B, pending.change_id),
                    RejectCode.LIMIT_CHANGE_NOT_FOUND)  # fmt: skip
            assert h.gateway.book.limits.account("desk-7").max_order_qty == 10_000
    finally:
        h2.gateway.close()
        h1.gateway.close()


def test_a_lowered_rate_counts_the_orders_already_in_its_window() -> None:
    h = build()
    assert h.submit(quantity=101).accepted and h.submit(quantity=102).accepted
    changed(h.gateway.limit_changes.propose(
        RISK_A, [("accounts.desk-7.max_orders_per_second", 3)], ""))  # fmt: skip
    assert h.submit(quantity=103).accepted  # the third in this second
    assert h.submit(quantity=104).code is RejectCode.RATE_LIMIT
    mm = dict(account="mm-1", strategy="mm")
    assert h.submit(MM_KEY, quantity=100, **mm).accepted  # 10,000 of notional in this second
    changed(h.gateway.limit_changes.propose(
        RISK_A, [("accounts.mm-1.max_notional_per_second", "50000")], ""))  # fmt: skip
    assert h.submit(MM_KEY, quantity=300, **mm).accepted  # 40,000
    over = h.submit(MM_KEY, quantity=200, **mm)  # 60,000 in 1 s
    assert over.code is RejectCode.RATE_LIMIT


def test_a_lowered_firm_gross_limit_refuses_the_next_order() -> None:
    h = build()
    assert h.submit(quantity=100).accepted
    changed(h.gateway.limit_changes.propose(RISK_A, [("firm.max_gross_notional", "50000")], ""))
    r = h.submit(quantity=600)
    assert r.code is RejectCode.GROSS_EXPOSURE_LIMIT and "firm-wide" in r.message


def test_a_restart_on_an_edited_config_reapplies_the_changes_on_top_of_it(
    tmp_path: Path,
) -> None:
    path = tmp_path / "journal.db"
    h = build(journal=SqliteJournal(path))
    lowered_to_3000(h)
    h.gateway.close()
    edited = config_with(accounts={"mm-1": {"max_position": 40000}})
    h2 = build(edited, journal=SqliteJournal(path), restart_of=h)
    limits = h2.gateway.book.limits
    assert limits.account("desk-7").max_order_qty == 3000  # the change, on the edited config
    assert limits.account("mm-1").max_position == 40000
    h2.journal.flush()
    last = [e for _, e in h2.journal.read() if isinstance(e, LimitsLoaded)][-1]
    assert (last.digest, last.document) == (limits.digest(), limits.canonical_json())
    h2.gateway.close()
