"""The order path takes the session from the server's calendar, never the caller's label:
the label can only be refused (SESSION_MISMATCH), and outside the sessions nothing goes
(MARKET_CLOSED). Every harness here runs on a manual clock set to a New York instant."""

from __future__ import annotations

from decimal import Decimal

import pytest

from interlock.domain.enums import OrderType
from interlock.domain.enums import TradingSession as T
from interlock.domain.reject import RejectCode
from interlock.sim.harness import MM_KEY, Harness, ManualClock, build, new_york_ns

DAY = "2025-08-01"  # a Friday, a normal NYSE day
WIDE = Decimal("108.00")  # 8% over the 100.00 reference: inside 10% (auction), not 5%


def at(at: str, day: str = DAY) -> Harness:
    return build(clock=ManualClock(new_york_ns(day, at)))


@pytest.mark.parametrize("label", [T.PRE_OPEN, T.OPENING_AUCTION])
def test_a_continuous_order_labelled_for_the_auction_is_refused_not_given_the_wide_collar(
    label: T,
) -> None:
    h = at("10:00")
    d = h.submit(session=label, limit_price=WIDE)
    assert d.code is RejectCode.SESSION_MISMATCH
    assert (d.rejection.limit, d.rejection.attempted) == ("continuous", label.value)
    assert f"labelled {label.value}" in d.message and "is continuous" in d.message
    assert h.gateway.positions() == []
    # unlabelled, the same order meets the continuous collar
    assert h.submit(limit_price=WIDE).code is RejectCode.PRICE_COLLAR


def test_an_unlabelled_order_gets_the_auction_collar_at_09_29_and_the_continuous_at_09_31() -> None:
    assert at("09:29").submit(limit_price=WIDE).accepted
    d = at("09:31").submit(limit_price=WIDE)
    assert d.code is RejectCode.PRICE_COLLAR
    assert d.rejection.limit == "500 bps" and "(continuous, AAPL)" in d.message


def test_a_label_that_agrees_with_the_server_is_accepted() -> None:
    assert at("09:29").submit(session=T.OPENING_AUCTION, limit_price=WIDE).accepted
    assert at("08:00").submit(session="pre_open").accepted  # as a transport gives it
    assert at("09:31").submit(session=T.CONTINUOUS).accepted


def test_the_accepted_order_carries_and_journals_the_servers_session() -> None:
    h = at("09:29")
    d = h.submit()
    assert h.gateway.order(d.order_id).session is T.OPENING_AUCTION
    decided = [ev for _, ev in h.journal.read() if getattr(ev, "order_id", None) == d.order_id]
    assert decided[0].session == "opening_auction" and decided[0].request.session is None
    rebuilt = build(journal=h.journal, clock=ManualClock(new_york_ns(DAY, "09:29")))
    assert rebuilt.gateway.order(d.order_id).session is T.OPENING_AUCTION


@pytest.mark.parametrize(
    ("when", "desk", "mm"),  # desk-7: continuous only; mm-1: continuous and opening auction
    [("08:00", False, False), ("09:29", False, True), ("09:31", True, True)],
)
def test_market_orders_go_only_in_the_servers_allowed_sessions(
    when: str, desk: bool, mm: bool
) -> None:
    h = at(when)
    d = h.submit(order_type=OrderType.MARKET)
    assert d.accepted is desk, d.message
    if not desk:
        assert d.code is RejectCode.MARKET_ORDER_NOT_ALLOWED
    assert (
        h.submit(MM_KEY, account="mm-1", strategy="mm", order_type=OrderType.MARKET).accepted is mm
    )


def test_a_market_order_labelled_for_the_auction_in_continuous_is_refused() -> None:
    h = at("10:00")
    d = h.submit(MM_KEY, account="mm-1", strategy="mm", order_type=OrderType.MARKET,
                 session=T.OPENING_AUCTION)  # fmt: skip
    assert d.code is RejectCode.SESSION_MISMATCH


@pytest.mark.parametrize(
    ("day", "when", "why"),
    [
        ("2025-08-02", "10:00", "not a trading weekday"),  # Saturday
        ("2025-08-03", "10:00", "not a trading weekday"),  # Sunday
        ("2025-07-04", "10:00", "a holiday"),
        ("2025-08-01", "16:00", "after the close at 16:00"),
        ("2025-08-01", "03:00", "before pre-open at 07:00"),
        ("2025-11-28", "13:00", "a half day, closed at 13:00"),
    ],
)
def test_outside_every_session_an_order_is_refused_with_MARKET_CLOSED(
    day: str, when: str, why: str
) -> None:
    h = at(when, day)
    d = h.submit()
    assert d.code is RejectCode.MARKET_CLOSED
    assert why in d.message and f"{day} {when}" in d.message
    assert h.submit(session=T.CONTINUOUS).code is RejectCode.MARKET_CLOSED  # a label can't open it
    assert h.gateway.positions() == []


def test_a_half_day_trades_until_12_59() -> None:
    assert at("12:59:59", "2025-11-28").submit().accepted


def test_a_retry_after_the_close_replays_the_first_decision_of_its_idempotency_key() -> None:
    clock = ManualClock(new_york_ns(DAY, "15:59:59"))
    h = build(clock=clock)
    first = h.submit(idempotency_key="k-1", client_order_id="late-1")
    assert first.accepted
    clock.advance_ms(1_500)  # 16:00:00.5: closed, but the key already has its decision
    h.gateway.heartbeat()
    again = h.submit(idempotency_key="k-1", client_order_id="late-1")
    assert again.replayed and again.order_id == first.order_id
    assert h.submit(client_order_id="late-2").code is RejectCode.MARKET_CLOSED


def test_a_halt_is_reported_before_the_closed_market() -> None:
    from interlock.domain.enums import HaltScope

    h = at("18:00")
    h.gateway.halt(HaltScope.ACCOUNT, "desk-7", "runaway suspected", "risk-officer")
    assert h.submit().code is RejectCode.HALTED


def test_fix_and_rest_map_the_session_codes_to_stable_answers() -> None:
    pytest.importorskip("quickfix")
    from interlock.api.rest.status import status_of
    from interlock.fixengine.codec import ord_rej_reason

    assert ord_rej_reason(RejectCode.MARKET_CLOSED) == 2  # OrdRejReason: exchange closed
    assert ord_rej_reason(RejectCode.SESSION_MISMATCH) == 99  # other: Text has the code
    assert status_of(RejectCode.MARKET_CLOSED) == 423
    assert status_of(RejectCode.SESSION_MISMATCH) == 422
