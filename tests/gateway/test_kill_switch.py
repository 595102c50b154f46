"""The kill switch on the order path: what a halt cancels, what resume lets through, and the
loss monitor that halts an account by itself."""

from __future__ import annotations

from decimal import Decimal

import pytest

from interlock.control.embedded import EmbeddedControlPlane
from interlock.control.plane import HaltRecord
from interlock.domain.enums import HaltScope, OrderStatus, OrderType, Side
from interlock.domain.reject import RejectCode
from interlock.gateway.gateway import Gateway
from interlock.sim.harness import DESK_KEY, MM_KEY, build, config_with

MM = dict(account="mm-1", strategy="mm")
ORDERS = {  # name: (api key, overrides, the position line it reserves on)
    "desk-7/vwap/AAPL": (DESK_KEY, dict(quantity=100), ("desk-7", "AAPL")),
    "desk-7/pairs/MSFT": (DESK_KEY, dict(strategy="pairs", symbol="MSFT", quantity=200),
                          ("desk-7", "MSFT")),
    "mm-1/mm/GOOG": (MM_KEY, dict(symbol="GOOG", quantity=300, **MM), ("mm-1", "GOOG")),
}  # fmt: skip
EVERY = set(ORDERS)
COVERS = {
    (HaltScope.GLOBAL, ""): EVERY,
    (HaltScope.INSTANCE, "gw-1"): EVERY,
    (HaltScope.INSTANCE, "gw-2"): set(),
    (HaltScope.ACCOUNT, "desk-7"): {"desk-7/vwap/AAPL", "desk-7/pairs/MSFT"},
    (HaltScope.STRATEGY, "vwap"): {"desk-7/vwap/AAPL"},
    (HaltScope.SYMBOL, "GOOG"): {"mm-1/mm/GOOG"},
}


@pytest.mark.parametrize(("scope", "target"), COVERS)
def test_halt_cancels_the_working_orders_it_covers_and_only_those(
    scope: HaltScope, target: str
) -> None:
    h = build()
    ids = {}
    for name, (key, overrides, _) in ORDERS.items():
        d = h.submit(key, **overrides)
        assert d.accepted and h.gateway.order(d.order_id).status is OrderStatus.WORKING
        ids[name] = d.order_id
    h.gateway.halt(scope, target, "test", "ops")
    covered = COVERS[(scope, target)]
    for name, oid in ids.items():
        order = h.gateway.order(oid)
        assert order is not None
        if name in covered:
            assert (order.status, order.leaves, h.venue.leaves(oid)) == (
                OrderStatus.CANCELLED, 0, 0,
            )  # fmt: skip
        else:
            assert order.status is OrderStatus.WORKING
            assert h.venue.leaves(oid) == order.leaves == order.qty
    still_reserved = sorted(
        (*ORDERS[name][2], 0, ORDERS[name][1]["quantity"], 0) for name in EVERY - covered
    )
    assert h.gateway.positions() == still_reserved  # cancelled orders gave theirs back


def test_halt_cancels_pending_orders_so_they_never_reach_the_venue() -> None:
    h = build()
    limit = h.gateway.submit(h.order(quantity=100), DESK_KEY)
    market = h.gateway.submit(h.order(order_type=OrderType.MARKET, quantity=200), DESK_KEY)
    assert h.gateway.order(limit.order_id).status is OrderStatus.PENDING  # not yet durable
    h.gateway.halt(HaltScope.ACCOUNT, "desk-7", "fat finger", "ops")
    h.journal.flush()
    assert h.venue.open_order_ids() == () and h.venue.cancel_rejects == 0  # nothing was sent
    for d in (limit, market):
        order = h.gateway.order(d.order_id)
        assert (order.status, order.leaves, order.filled) == (OrderStatus.CANCELLED, 0, 0)
    assert h.gateway.positions() == []


def test_resume_lifts_one_halt_and_leaves_the_others_in_force() -> None:
    h = build()
    h.gateway.halt(HaltScope.ACCOUNT, "desk-7", "review", "ops")
    h.gateway.halt(HaltScope.SYMBOL, "AAPL", "news", "ops")
    assert h.gateway.resume(HaltScope.ACCOUNT, "desk-7", "ops") is True
    d = h.submit()
    assert d.code is RejectCode.HALTED and "symbol AAPL halted by ops: news" in d.message
    assert h.submit(symbol="MSFT").accepted
    assert h.gateway.resume(HaltScope.SYMBOL, "AAPL", "ops") is True
    assert h.submit().accepted
    assert h.gateway.resume(HaltScope.SYMBOL, "AAPL", "ops") is False  # nothing left to lift


def test_global_halt_is_lifted_whatever_target_resume_names() -> None:
    h = build()
    h.gateway.halt(HaltScope.GLOBAL, "ignored", "market-wide", "ops")
    assert h.submit().code is RejectCode.HALTED
    assert h.gateway.resume(HaltScope.GLOBAL, "whatever", "ops") is True
    assert h.submit().accepted


def test_fill_that_breaches_the_loss_limit_halts_the_account() -> None:
    h = build()
    resting = h.submit(symbol="MSFT", quantity=100)
    assert h.submit(quantity=4_000, order_type=OrderType.MARKET).accepted  # 4,000 at 100.01
    h.market.set_mid("AAPL", 3_751)  # marked down to 37.51: exactly 250,000 USD lost
    assert h.gateway.book.account("desk-7").pnl == -250_000_000_000
    assert h.plane.halts() == []  # at the limit, not over it
    fill = h.submit(quantity=100, order_type=OrderType.MARKET)  # buys at 37.52: 1 USD more
    assert fill.accepted and h.gateway.order(fill.order_id).status is OrderStatus.FILLED
    [halt] = h.plane.halts()
    assert (halt.scope, halt.target, halt.who) == (HaltScope.ACCOUNT, "desk-7", "loss-monitor")
    assert halt.reason == (
        "LOSS_LIMIT: account desk-7 day loss 250,001 USD (realized plus marked) over daily loss "
        "limit 250,000 USD"
    )
    assert h.gateway.order(resting.order_id).status is OrderStatus.CANCELLED
    assert h.venue.leaves(resting.order_id) == 0
    d = h.submit(symbol="MSFT", quantity=300)
    assert d.code is RejectCode.HALTED
    assert d.message == f"HALTED: account desk-7 halted by loss-monitor: {halt.reason}"
    assert h.submit(MM_KEY, symbol="MSFT", **MM).accepted  # other accounts trade on


def test_marked_loss_over_the_limit_halts_the_account_and_cancels_its_working_orders() -> None:
    h = build()
    assert h.submit(quantity=4_000, order_type=OrderType.MARKET).accepted
    resting = h.submit(symbol="MSFT", quantity=3_000, limit_price=Decimal("99.00"))
    assert h.gateway.order(resting.order_id).status is OrderStatus.WORKING
    h.gateway.update_reference("AAPL", 3_000)  # 280,040 USD down on the mark alone
    [halt] = h.plane.halts()
    assert (halt.scope, halt.target, halt.who) == (HaltScope.ACCOUNT, "desk-7", "loss-monitor")
    assert halt.reason.startswith("LOSS_LIMIT: account desk-7 day loss 280,040 USD")
    assert set(h.plane.halt_confirmations(halt)) == {"gw-1"}  # applied and confirmed
    assert h.gateway.order(resting.order_id).status is OrderStatus.CANCELLED
    assert h.venue.leaves(resting.order_id) == 0
    h.journal.flush()
    kinds = [type(e).__name__ for _, e in h.journal.read()]
    assert "HaltApplied" in kinds
    assert h.submit(symbol="GOOG").code is RejectCode.HALTED


def test_loss_halt_on_the_mark_stays_until_a_person_resumes_it() -> None:
    h = build()
    assert h.submit(quantity=4_000, order_type=OrderType.MARKET).accepted
    h.gateway.update_reference("AAPL", 3_000)
    h.gateway.update_reference("AAPL", 10_000)  # the mark recovers: the halt stays
    assert [x.who for x in h.plane.halts()] == ["loss-monitor"]
    assert h.submit(symbol="GOOG").code is RejectCode.HALTED
    assert h.gateway.resume(HaltScope.ACCOUNT, "desk-7", "risk-officer")
    assert h.submit(symbol="GOOG").accepted


def test_after_a_resume_while_still_past_the_limit_new_risk_is_refused_and_no_new_halt() -> None:
    h = build()
    assert h.submit(quantity=4_000, order_type=OrderType.MARKET).accepted
    h.gateway.update_reference("AAPL", 3_000)
    assert h.gateway.resume(HaltScope.ACCOUNT, "desk-7", "risk-officer")
    h.gateway.update_reference("AAPL", 2_999)  # still past it: the person's resume holds
    assert h.plane.halts() == []
    assert h.submit(symbol="GOOG").code is RejectCode.LOSS_LIMIT
    h.gateway.update_reference("AAPL", 10_000)  # back under the limit: re-armed
    h.gateway.update_reference("AAPL", 3_000)  # a new breach halts again
    assert [x.who for x in h.plane.halts()] == ["loss-monitor"]


def test_risk_reducing_sale_passes_a_loss_halt_by_default() -> None:
    h = build()
    assert h.submit(quantity=4_000, order_type=OrderType.MARKET).accepted
    h.gateway.update_reference("AAPL", 3_000)
    h.market.set_mid("AAPL", 3_000)
    h.gateway.update_reference("AAPL", 3_000)
    sale = h.submit(side=Side.SELL, quantity=1_000)  # part of the long: reduces
    assert sale.accepted, sale.message
    assert h.submit(side=Side.SELL, quantity=5_000).code is RejectCode.HALTED  # flips short
    assert h.submit(symbol="GOOG").code is RejectCode.HALTED  # new risk elsewhere


def test_loss_halt_refuses_even_reducing_orders_when_the_switch_is_off() -> None:
    h = build(config_with(loss_halt_allows_reducing=False))
    assert h.submit(quantity=4_000, order_type=OrderType.MARKET).accepted
    h.market.set_mid("AAPL", 3_000)
    assert h.submit(side=Side.SELL, quantity=1_000).code is RejectCode.HALTED


def test_a_global_halt_blocks_reducing_orders_even_during_a_loss_halt() -> None:
    h = build()
    assert h.submit(quantity=4_000, order_type=OrderType.MARKET).accepted
    h.market.set_mid("AAPL", 3_000)
    h.gateway.halt(HaltScope.GLOBAL, "", "incident", "risk-officer")
    assert h.submit(side=Side.SELL, quantity=1_000).code is RejectCode.HALTED


def test_loss_breach_during_a_global_halt_still_halts_the_account() -> None:
    h = build()
    assert h.submit(quantity=4_000, order_type=OrderType.MARKET).accepted
    resting = h.submit(symbol="MSFT", quantity=100)
    h.gateway.update_reference("AAPL", 3_000)  # 280,040 USD down
    h.gateway.halt(HaltScope.GLOBAL, "", "market-wide", "ops")  # cancels the MSFT buy
    h.gateway.on_fill(resting.order_id, 100, 10_000, "late-1")  # but it had filled first
    h.gateway.resume(HaltScope.GLOBAL, "", "ops")
    assert [(x.scope, x.who) for x in h.plane.halts()] == [(HaltScope.ACCOUNT, "loss-monitor")]


def test_restart_under_a_halt_already_on_the_plane_cancels_the_orders_it_covers() -> None:
    h = build()
    working = h.submit(quantity=100)
    assert h.venue.open_order_ids() == (working.order_id,)
    plane = EmbeddedControlPlane(clock=h.clock)  # the fleet halted desk-7 while we were down
    plane.put_halt(HaltRecord(HaltScope.ACCOUNT, "desk-7", "risk review", "ops", h.clock()))
    gw = Gateway(h.gateway.config, h.journal, h.venue, plane, clock=h.clock)
    h.venue.attach(gw)  # the venue reports to the new instance before it starts
    gw.start()
    gw.update_reference("AAPL", 10_000)
    assert gw.submit(h.order(quantity=300), DESK_KEY).code is RejectCode.HALTED  # this works
    assert gw.order(working.order_id).status is OrderStatus.CANCELLED
    assert h.venue.open_order_ids() == ()
