"""The defences hold in the product: every way to build an instance runs the monitors, and
the rate windows cannot be dodged by a new name or spent by another account."""

from __future__ import annotations

from decimal import Decimal

import pytest

from interlock.control.embedded import EmbeddedControlPlane
from interlock.domain.commands import OrderRequest
from interlock.domain.enums import HaltScope, OrderType, Side
from interlock.domain.reject import RejectCode
from interlock.gateway.gateway import Gateway
from interlock.journal.memory import MemoryJournal
from interlock.sim.harness import DESK_KEY, MM_KEY, START_NS, ManualClock, build, config_with
from interlock.sim.runaway import Runaway, desk_config, drive, harness
from interlock.venue.market import MarketModel
from interlock.venue.simulated import SimulatedVenue

MS = 1_000_000


def test_a_hand_built_gateway_halts_a_runaway_account_by_itself() -> None:
    clock = ManualClock(START_NS)
    cfg = desk_config(0)
    market = MarketModel({s: (10_000, 1, 5_000) for s in cfg.instruments}, volatility_ticks=0)
    venue = SimulatedVenue(market)
    gw = Gateway(cfg, MemoryJournal(), venue, EmbeddedControlPlane(clock=clock), clock=clock)
    venue.attach(gw)
    gw.start()
    for s in cfg.instruments:
        gw.update_reference(s, 10_000)
    symbols = [s for s in cfg.instruments if s != "KCG"]
    for n in range(101):
        clock.now += 5 * MS
        req = OrderRequest(f"c{n}", "desk-7", "vwap", symbols[n % len(symbols)],
                           Side.BUY if n % 2 else Side.SELL, 1, OrderType.MARKET)  # fmt: skip
        gw.submit(req, DESK_KEY)
    [halt] = gw.plane.halts()
    assert (halt.scope, halt.target, halt.who) == (
        HaltScope.ACCOUNT, "desk-7", "observe:account_flow",
    )  # fmt: skip
    assert [t.detector for t, _ in gw.trip_reports] == ["account_flow"]


def test_spread_runaway_over_150_symbols_is_halted_within_2_s_on_the_shipped_defaults() -> None:
    """The issue's case: child market orders over ~150 symbols, alternating sides, under
    every per-symbol rate (~1 per symbol per second)."""
    r = drive(Runaway(pace=160, symbols=150, sides="alternate", qty=100, market=True),
              harness(desk_config(150)), until_stopped=False)  # fmt: skip
    assert r.halted_at_s is not None and r.halted_at_s <= 2.0, r.row()
    assert r.halts == ["account:desk-7 by observe:account_flow"]
    assert r.traded_usd < 1_100_000  # not 50 M


def test_a_new_strategy_name_per_order_under_a_star_key_trips_one_account_halt() -> None:
    r = drive(Runaway(pace=300, symbols=12, new_strategy_each_order=True, accounts=("mm-1",)),
              harness(desk_config(12)), until_stopped=False)  # fmt: skip
    assert r.halts == ["account:mm-1 by observe:account_flow"]


def test_a_new_strategy_name_per_order_shares_one_window_under_a_star_key() -> None:
    h = build(config_with(rates={"per_strategy": {"count": 3, "window_ms": 1_000}}))
    mm = dict(account="mm-1", symbol="MSFT")
    decisions = [h.submit(MM_KEY, strategy=f"name-{n}", quantity=100 + n, **mm) for n in range(4)]
    assert [d.accepted for d in decisions] == [True, True, True, False]
    assert decisions[3].code is RejectCode.RATE_LIMIT
    assert "strategy name-3 (undeclared: shared *)" in decisions[3].message


def test_one_account_cannot_spend_another_accounts_symbol_window() -> None:
    h = build(config_with(rates={"per_symbol": {"count": 2, "window_ms": 1_000}}))
    assert all(h.submit(quantity=100 + n).accepted for n in range(2))
    assert h.submit(quantity=103).code is RejectCode.RATE_LIMIT
    assert h.submit(MM_KEY, account="mm-1", strategy="mm", quantity=100).accepted


def test_one_account_cannot_spend_another_accounts_strategy_window() -> None:
    h = build(config_with(rates={"per_strategy": {"count": 2, "window_ms": 1_000}}))
    assert all(h.submit(MM_KEY, account="mm-1", strategy="vwap", quantity=100 + n).accepted
               for n in range(2))  # fmt: skip
    assert h.submit(strategy="vwap").accepted  # desk-7's own vwap window is empty


def test_account_envelope_refuses_orders_past_its_count_per_second() -> None:
    h = build(config_with(accounts={"desk-7": {"max_orders_per_second": 3}}))
    decisions = [h.submit(symbol=s) for s in ("AAPL", "MSFT", "GOOG", "NVDA")]
    assert decisions[3].code is RejectCode.RATE_LIMIT
    assert "account desk-7 rate: 4 orders in 1,000 ms, over limit 3" in decisions[3].message
    assert h.submit(MM_KEY, account="mm-1", strategy="mm", symbol="NVDA").accepted


def test_account_envelope_refuses_notional_past_its_limit_per_minute() -> None:
    h = build(config_with(accounts={"desk-7": {"max_notional_per_minute": "25000"}}))
    assert h.submit(quantity=200).accepted  # about 20,000 USD
    d = h.submit(symbol="MSFT", quantity=100)
    assert d.code is RejectCode.RATE_LIMIT
    assert "account desk-7 notional rate" in d.message and "over limit 25,000 USD" in d.message
    for _ in range(60):  # a minute passes, the lease renewed on the way
        h.clock.now += 1_000 * MS  # type: ignore[attr-defined]
        h.gateway.heartbeat()
    h.refresh_references()
    assert h.submit(symbol="MSFT", quantity=100, limit_price=Decimal("100.00")).accepted


def test_a_caller_flooding_another_accounts_name_cannot_trip_that_accounts_halt() -> None:
    h = build()
    for n in range(300):  # the market maker's key, desk-7's account: refused, never counted
        d = h.gateway.submit(h.order(account="desk-7", strategy="mm", quantity=1 + n), MM_KEY)
        assert d.code is RejectCode.UNAUTHENTICATED
    for n in range(300):  # no key at all
        d = h.gateway.submit(h.order(quantity=1 + n), "not-a-key")
        assert d.code is RejectCode.UNAUTHENTICATED
    assert h.plane.halts() == []
    assert h.submit().accepted


def test_a_loop_refused_for_an_undeclared_strategy_of_its_own_account_still_trips() -> None:
    """desk-7's key declares its strategies: a loop naming new ones is refused, and since
    the account is the caller's own, the refusals count as the loop they are."""
    h = build()
    for n in range(101):
        h.gateway.submit(h.order(strategy=f"loop-{n}", quantity=1 + n), DESK_KEY)
    assert [(x.scope, x.target) for x in h.plane.halts()] == [(HaltScope.ACCOUNT, "desk-7")]


@pytest.mark.parametrize("order_id", [[1], "1", None, 1.0, {"id": 1}])
def test_cancel_with_an_order_id_that_is_no_integer_is_SCHEMA_INVALID(order_id: object) -> None:
    h = build()
    refusal = h.gateway.cancel(order_id, DESK_KEY)  # type: ignore[arg-type]
    assert refusal is not None and refusal.code is RejectCode.SCHEMA_INVALID
