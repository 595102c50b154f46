"""The message throttle (MESSAGE_RATE): new orders, cancels and replaces per session and per
instance, through the real Gateway. Adversary cases: a second API key (session), another
strategy name under the same key, a cancel storm, a mass cancel, a restart mid-window."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from interlock.api.config import load_config, parse_config
from interlock.domain.enums import OrderStatus
from interlock.domain.reject import RejectCode
from interlock.gateway.config import hash_key
from interlock.sim.harness import DESK_KEY, START_NS, Harness, ManualClock, build

SECOND_KEY = "desk-7-second-session-key"


def throttled(per_session: int, per_instance: int = 2_000, **extra: Any) -> Any:
    """The packaged config with the message windows at these counts (1 s), and a second
    trading key for desk-7 (principal desk-7-manual): a second session of the same desk."""
    data = load_config().model_dump(mode="json")
    data["limits"]["messages"] = {
        "per_session": {"count": per_session, "window_ms": 1_000},
        "per_instance": {"count": per_instance, "window_ms": 1_000},
    }
    data["limits"].update(extra)
    data["api_keys"].append({"principal": "desk-7-manual", "key_sha256": hash_key(SECOND_KEY),
                             "accounts": ["desk-7"], "strategies": ["vwap"]})  # fmt: skip
    return parse_config(data, "message throttle test config")


def resting(h: Harness, n: int, key: str = DESK_KEY, first_qty: int = 10) -> list[int]:
    """`n` buys resting below the market (each its own quantity: no duplicates)."""
    ids = []
    for i in range(n):
        d = h.submit(key, quantity=first_qty + i, limit_price=Decimal("99.90"))
        assert d.accepted, d.message
        ids.append(d.order_id)
    return ids


def test_a_second_session_gets_its_own_budget_but_the_instance_budget_still_binds() -> None:
    h = build(throttled(per_session=3, per_instance=5))
    resting(h, 3)
    d = h.submit(quantity=99)
    assert d.code is RejectCode.MESSAGE_RATE and "session desk-7-algo" in d.message
    resting(
        h, 2, SECOND_KEY, first_qty=20
    )  # the second key's own budget: 2 more fit the instance's 5
    d = h.submit(SECOND_KEY, quantity=98)
    assert d.code is RejectCode.MESSAGE_RATE and "instance messages" in d.message, d.message


def test_another_strategy_name_under_the_same_key_spends_the_same_session_budget() -> None:
    h = build(throttled(per_session=3))
    for strategy, qty in (("vwap", 1), ("pairs", 2), ("smars", 3)):
        assert h.submit(strategy=strategy, quantity=qty).accepted
    assert h.submit(strategy="pairs", quantity=4).code is RejectCode.MESSAGE_RATE


def test_a_cancel_storm_is_throttled_and_the_refused_cancel_leaves_the_order_working() -> None:
    h = build(throttled(per_session=4))
    first, second = resting(h, 2)
    assert h.gateway.cancel(first, DESK_KEY) is None  # 3 messages
    h.journal.flush()
    assert h.gateway.cancel(first, DESK_KEY).code is RejectCode.ORDER_NOT_OPEN  # not counted
    assert h.gateway.cancel(second, DESK_KEY) is None  # 4
    third = h.gateway.submit(h.order(quantity=77), DESK_KEY)
    assert third.code is RejectCode.MESSAGE_RATE  # the cancels spent the budget
    refusal = h.gateway.cancel(second, DESK_KEY)  # cancelled already: not open, not counted
    assert refusal is not None and refusal.code is RejectCode.ORDER_NOT_OPEN


def test_a_cancel_over_the_throttle_is_refused_MESSAGE_RATE_and_passes_once_it_slid() -> None:
    clock = ManualClock(START_NS)
    h = build(throttled(per_session=3), clock=clock)
    a, _, _ = resting(h, 3)
    refusal = h.gateway.cancel(a, DESK_KEY)
    assert refusal is not None and refusal.code is RejectCode.MESSAGE_RATE
    assert "session desk-7-algo messages (cancel)" in refusal.message
    assert h.gateway.order(a).status is OrderStatus.WORKING  # nothing was cancelled
    clock.advance_ms(1_000)
    assert h.gateway.heartbeat()
    assert h.gateway.cancel(a, DESK_KEY) is None


def test_a_mass_cancel_is_one_message_checked_once_and_cancels_past_the_budget() -> None:
    h = build(throttled(per_session=4))
    resting(h, 3)
    done = h.gateway.mass_cancel(DESK_KEY, account="desk-7")  # 1 check, 3 cancels counted
    assert isinstance(done, list) and len(done) == 3
    after = h.gateway.mass_cancel(DESK_KEY, account="desk-7")  # 6 messages spent: refused
    assert not isinstance(after, list) and after.code is RejectCode.MESSAGE_RATE


def test_an_owed_cancel_is_counted_but_never_refused() -> None:
    h = build(throttled(per_session=3))
    a, b = resting(h, 2)
    assert h.gateway.cancel(a, DESK_KEY, "replaced by c9", throttled=False) is None  # 3rd
    assert h.submit(quantity=55).code is RejectCode.MESSAGE_RATE  # it spent the budget
    assert h.gateway.cancel(b, DESK_KEY, "cancel on disconnect", throttled=False) is None


def test_a_message_refused_for_the_throttle_spends_nothing() -> None:
    clock = ManualClock(START_NS)
    h = build(throttled(per_session=2), clock=clock)
    resting(h, 2)  # at START_NS
    clock.advance_ms(999)
    for qty in (61, 62, 63):
        assert h.submit(quantity=qty).code is RejectCode.MESSAGE_RATE
    clock.advance_ms(1)  # the two have left the window; the refused ones never entered it
    assert h.gateway.heartbeat()
    assert h.submit(quantity=64).accepted


def test_a_refused_order_is_a_message_too() -> None:
    h = build(throttled(per_session=2))
    assert h.submit(quantity=50_000).code is RejectCode.MAX_ORDER_QTY
    assert h.submit(quantity=50_001).code is RejectCode.MAX_ORDER_QTY
    assert h.submit(quantity=5).code is RejectCode.MESSAGE_RATE


def test_a_restart_mid_window_keeps_the_count() -> None:
    clock = ManualClock(START_NS)
    h = build(throttled(per_session=3), clock=clock)
    resting(h, 2)
    assert h.submit(quantity=50_000).code is RejectCode.MAX_ORDER_QTY  # 3 messages
    h.journal.flush()
    h2 = build(throttled(per_session=3), journal=h.journal, clock=clock, restart_of=h)
    d = h2.submit(quantity=7)
    assert d.code is RejectCode.MESSAGE_RATE, d.message
    assert list(h2.gateway.book.messages.sessions.windows["desk-7-algo"].stamps) == list(
        h.gateway.book.messages.sessions.windows["desk-7-algo"].stamps
    )


def test_the_packaged_config_serves_the_throttle() -> None:
    limits = load_config().limits.messages
    assert (limits.per_session.count, limits.per_session.window_ms) == (500, 1_000)
    assert (limits.per_instance.count, limits.per_instance.window_ms) == (2_000, 1_000)
    assert build().gateway.engine.disabled == frozenset()  # message_rate among the checks


def test_a_replayed_idempotency_key_answers_its_first_decision_and_spends_nothing() -> None:
    h = build(throttled(per_session=2))
    keyed = h.order(quantity=5, idempotency_key="k-1")
    first = h.gateway.submit(keyed, DESK_KEY)
    assert first.accepted
    assert h.submit(quantity=6).accepted  # the budget is spent
    again = h.gateway.submit(keyed, DESK_KEY)  # the same key: no new decision is made
    assert again.replayed and again.order_id == first.order_id
    assert len(h.gateway.book.messages.sessions.windows["desk-7-algo"].stamps) == 2
