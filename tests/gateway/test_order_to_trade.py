"""The order-to-trade ratio (ORDER_TO_TRADE_RATIO) over the trading day, through the real
Gateway. Adversary cases: a strategy that never trades behind one that does, a new
strategy name per order, cancels as orders, a restart mid-day; and the day boundary."""

from __future__ import annotations

from decimal import Decimal

from interlock.api.config import ServeConfig
from interlock.domain.enums import OrderType
from interlock.domain.reject import RejectCode
from interlock.risk.checks.order_to_trade import check_order_to_trade
from interlock.sim.harness import MM_KEY, START_NS, ManualClock, build, config_with

MARKET = OrderType.MARKET
NS_PER_DAY = 86_400 * 1_000_000_000


def otr(max_ratio: int, min_orders: int) -> ServeConfig:
    return config_with(order_to_trade={"max_ratio": max_ratio, "min_orders": min_orders})


def test_a_strategy_that_never_trades_is_refused_behind_a_sibling_that_does() -> None:
    h = build(otr(max_ratio=3, min_orders=3))
    for qty in (100, 101, 102):  # vwap: 3 orders, 3 trades
        assert h.submit(strategy="vwap", order_type=MARKET, quantity=qty).accepted
    for qty in (10, 11, 12):  # pairs: 3 orders, no trade (the account: 6 to 3, inside 3:1)
        assert h.submit(strategy="pairs", quantity=qty, limit_price=Decimal("99.90")).accepted
    d = h.submit(strategy="pairs", quantity=13, limit_price=Decimal("99.90"))
    assert d.code is RejectCode.ORDER_TO_TRADE_RATIO, d.message
    assert "account desk-7 strategy pairs: 4 orders (new + cancels) to 0 trades" in d.message
    assert h.submit(strategy="vwap", quantity=14, limit_price=Decimal("99.90")).accepted


def test_the_account_tally_binds_across_strategies_and_new_names() -> None:
    h = build(otr(max_ratio=1, min_orders=2))
    mm = {"account": "mm-1", "limit_price": Decimal("99.90")}
    for name, qty in (("s1", 10), ("s2", 11)):  # a new (undeclared) name per order
        assert h.submit(MM_KEY, strategy=name, quantity=qty, **mm).accepted
    d = h.submit(MM_KEY, strategy="s3", quantity=12, **mm)
    assert d.code is RejectCode.ORDER_TO_TRADE_RATIO and "account mm-1:" in d.message


def test_cancels_count_as_orders_and_are_never_refused() -> None:
    h = build(otr(max_ratio=2, min_orders=3))
    assert h.submit(order_type=MARKET).accepted  # 1 order, 1 trade
    d = h.submit(quantity=10, limit_price=Decimal("99.90"))
    assert h.gateway.cancel(d.order_id, "demo-desk-7-key") is None  # 3 orders
    e = h.submit(quantity=11, limit_price=Decimal("99.90"))
    assert e.code is RejectCode.ORDER_TO_TRADE_RATIO  # 4 > 2 x 1
    assert h.gateway.book.tallies.accounts["desk-7"].orders == 3


def test_a_restart_mid_day_keeps_the_tallies() -> None:
    clock = ManualClock(START_NS)
    h = build(otr(max_ratio=2, min_orders=3), clock=clock)
    assert h.submit(order_type=MARKET).accepted
    assert h.submit(quantity=10, limit_price=Decimal("99.90")).accepted
    assert h.submit(quantity=11, limit_price=Decimal("99.90")).accepted
    h.journal.flush()
    h2 = build(otr(max_ratio=2, min_orders=3), journal=h.journal, clock=clock, restart_of=h)
    tally = h2.gateway.book.tallies.accounts["desk-7"]
    assert (tally.orders, tally.trades) == (3, 1)
    d = h2.submit(quantity=12, limit_price=Decimal("99.90"))
    assert d.code is RejectCode.ORDER_TO_TRADE_RATIO, d.message


def test_the_next_trading_day_starts_the_tallies_again() -> None:
    h = build(otr(max_ratio=1, min_orders=1))
    book = h.gateway.book
    assert h.submit(quantity=10, limit_price=Decimal("99.90")).accepted
    order = h.gateway.order(1)
    assert order is not None
    acct = book.accounts["desk-7"]
    assert check_order_to_trade(order, acct, book, START_NS) is not None  # 2 > 1 x 0
    tomorrow = START_NS + NS_PER_DAY
    assert check_order_to_trade(order, acct, book, tomorrow) is None  # nothing counted yet
    book.tallies.order("desk-7", "vwap", tomorrow)
    assert book.tallies.accounts["desk-7"].orders == 1 and book.tallies.start > START_NS


def test_exactly_at_the_ratio_passes_and_one_order_over_it_is_refused() -> None:
    h = build(otr(max_ratio=3, min_orders=1))
    assert h.submit(order_type=MARKET).accepted  # 1 order, 1 trade
    for qty in (10, 11):  # 3 orders to 1 trade: at the limit, not over it
        assert h.submit(quantity=qty, limit_price=Decimal("99.90")).accepted
    d = h.submit(quantity=12, limit_price=Decimal("99.90"))
    assert d.code is RejectCode.ORDER_TO_TRADE_RATIO and "4 orders" in d.message, d.message
