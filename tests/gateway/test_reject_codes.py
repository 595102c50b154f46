"""Every reject code, produced through the real Gateway (`build()`), one situation per test.

Each test asserts the code, that the message starts with it, and that the sentence names
both numbers compared (the limit and the attempted value), which the rejection also carries
in `limit` and `attempted`. The last test walks `RejectCode` and fails when a code has no
`test_submit_when_<situation>_rejects_with_<CODE>` here. Behaviour around the codes (halts
cancelling orders, the loss monitor, windows sliding, the lease) lives in test_kill_switch.py
and test_gates_and_windows.py beside this file; replays, release and recovery in
test_order_path.py.
"""

from __future__ import annotations

import sys
import threading
from decimal import Decimal
from typing import Any

import pytest

from interlock.api.config import load_config, parse_config
from interlock.control.plane import Attestation, Release
from interlock.domain.commands import OrderRequest, ParentOrder
from interlock.domain.decision import Decision
from interlock.domain.enums import HaltScope, OrderStatus, OrderType, Side, TradingSession
from interlock.domain.reject import ORDER_CODES, RejectCode, render
from interlock.gateway.config import GatewayConfig, hash_key
from interlock.sim.faulty_journal import FaultyJournal
from interlock.sim.harness import (
    AUCTION_NS,
    DESK_KEY,
    MM_KEY,
    PRE_OPEN_NS,
    START_NS,
    Harness,
    ManualClock,
    build,
    config_with,
    new_york_ns,
)

MARKET = OrderType.MARKET

# Codes the gateway cannot produce yet, each with the reason; the coverage test allows these.
NOT_YET_PRODUCED: dict[RejectCode, str] = {}


def rejected(d: Decision, code: RejectCode, *numbers: str) -> None:
    """`d` is a rejection with `code`, leading its message, naming every one of `numbers`."""
    assert d.code is code, d.message
    assert not d.accepted and d.order_id is None
    assert d.message.startswith(f"{code.value}: "), d.message
    assert d.rejection is not None and all(limits(d)), limits(d)  # 0 is a value: rendered
    for n in numbers:
        assert n in d.message, f"{n!r} not in {d.message!r}"


def limits(d: Decision) -> tuple[str, str]:
    """The two values as shown (the journal's, REST's text): typed until rendered."""
    assert d.rejection is not None
    return render(d.rejection.limit), render(d.rejection.attempted)


def advance(h: Harness, clock: ManualClock, ms: int) -> None:
    """Let `ms` pass with the lease renewed every second (references are left to age)."""
    while ms > 0:
        step = min(ms, 1_000)
        clock.advance_ms(step)
        assert h.gateway.heartbeat()
        ms -= step


def desk7(**overrides: Any) -> dict[str, Any]:
    """desk-7's packaged account override with some keys changed (for `config_with`)."""
    base = load_config().limits.accounts["desk-7"].model_dump(mode="json", exclude_none=True)
    return {**base, **overrides}


def with_lot_instrument() -> GatewayConfig:
    data = load_config().model_dump(mode="json")
    data["instruments"]["LOT"] = {"tick_size": "0.01", "lot_size": 100}
    data["limits"]["adv"]["shares"]["LOT"] = 10_000_000
    return parse_config(data, "test config")


def etb(*symbols: str) -> GatewayConfig:
    """The packaged config with `symbols` easy to borrow: their short sales need no locate
    (a test of another check sells short there, from flat, without a SHORT_MARKING)."""
    return config_with(short_sale={"easy_to_borrow": list(symbols)})


# -- 1. decode + schema --------------------------------------------------------------------

SCHEMA_CASES = {
    "price_off_tick_grid": (dict(limit_price=Decimal("100.001")), "0.01", "100.001"),
    "quantity_zero": (dict(quantity=0), "positive whole number", "0"),
    "quantity_negative": (dict(quantity=-100), "positive whole number", "-100"),
    "quantity_not_an_int": (dict(quantity=1.5), "positive whole number", "1.5"),
    "quantity_a_string": (dict(quantity="100"), "positive whole number", "'100'"),
    "quantity_a_bool": (dict(quantity=True), "positive whole number", "True"),
    "market_order_has_price": (
        dict(order_type=MARKET, limit_price=Decimal("100.00")),
        "must be empty for a market order",
        "100.00",
    ),
    "side_unknown": (dict(side="hold"), "['buy', 'sell', 'sell_short']", "'hold'"),
    "client_order_id_too_long": (dict(client_order_id="x" * 129), "1 to 128", "x" * 40),
}


@pytest.mark.parametrize("case", SCHEMA_CASES)
def test_submit_when_field_malformed_rejects_with_SCHEMA_INVALID(case: str) -> None:
    overrides, limit_text, attempted = SCHEMA_CASES[case]
    h = build()
    d = h.submit(**overrides)
    rejected(d, RejectCode.SCHEMA_INVALID, limit_text, attempted)
    assert limit_text in limits(d)[0]
    assert attempted.strip("'") in limits(d)[1]
    assert h.gateway.positions() == [] and h.venue.open_order_ids() == ()


def test_submit_when_limit_price_missing_rejects_with_SCHEMA_INVALID() -> None:
    h = build()
    request = OrderRequest("c1", "desk-7", "vwap", "AAPL", Side.BUY, 100)  # no limit price
    d = h.gateway.submit(request, DESK_KEY)
    rejected(d, RejectCode.SCHEMA_INVALID, "limit_price", "decimal price", "None")
    assert "decimal price for a limit order" in limits(d)[0] and limits(d)[1] == "None"


def test_submit_when_quantity_not_a_lot_multiple_rejects_with_SCHEMA_INVALID() -> None:
    h = build(with_lot_instrument())
    d = h.submit(symbol="LOT", quantity=150)
    rejected(d, RejectCode.SCHEMA_INVALID, "lot size 100", "150")
    assert limits(d) == ("must be a multiple of lot size 100", "150")
    assert h.submit(symbol="LOT", quantity=200).accepted


def test_submit_when_client_order_id_empty_rejects_with_SCHEMA_INVALID() -> None:
    d = build().submit(client_order_id="")
    rejected(d, RejectCode.SCHEMA_INVALID, "client_order_id", "1 to 128", "got ''")
    assert limits(d) == ("must be printable text of 1 to 128 characters", "''")


def test_submit_when_symbol_not_listed_rejects_with_UNKNOWN_SYMBOL() -> None:
    d = build().submit(symbol="ZZZZ", limit_price=Decimal("100.00"))
    rejected(d, RejectCode.UNKNOWN_SYMBOL, "ZZZZ", "instrument list")
    assert limits(d) == ("configured instruments", "ZZZZ")


# -- 2. authentication ---------------------------------------------------------------------

AUTH_CASES = {
    "key_unknown": ("not-a-key", {}, "registered API key", "unknown key"),
    "key_may_not_trade_account": (DESK_KEY, dict(account="mm-1"), "['desk-7']", "mm-1/vwap"),
    "strategy_not_allowed": (DESK_KEY, dict(strategy="momentum"), "'vwap'", "desk-7/momentum"),
}


@pytest.mark.parametrize("case", AUTH_CASES)
def test_submit_when_caller_not_allowed_rejects_with_UNAUTHENTICATED(case: str) -> None:
    key, overrides, limit_text, attempted = AUTH_CASES[case]
    h = build()
    d = h.submit(key, **overrides)
    rejected(d, RejectCode.UNAUTHENTICATED)
    assert limit_text in limits(d)[0] and limits(d)[1] == attempted
    if case != "key_unknown":
        assert "desk-7-algo" in d.message and attempted.split("/")[0] in d.message


def _keys_config(**desk: Any) -> GatewayConfig:
    """The default config with desk-7's API key entry changed (and top-level `revoked`)."""
    base = load_config().model_dump(mode="json")
    base["revoked"] = desk.pop("revoked", [])
    base["api_keys"][0].update(desk)
    return parse_config(base, "test config")


def test_submit_when_key_past_its_not_after_rejects_with_CREDENTIAL_EXPIRED() -> None:
    h = build(_keys_config(not_after="2025-08-01T14:00:00Z"))  # START_NS, to the ns: from then
    d = h.submit(DESK_KEY)
    rejected(d, RejectCode.CREDENTIAL_EXPIRED, "desk-7-algo")
    assert DESK_KEY not in d.message


def test_submit_when_key_revoked_rejects_with_CREDENTIAL_REVOKED() -> None:
    h = build(_keys_config(revoked=[hash_key(DESK_KEY)]))
    d = h.submit(DESK_KEY)
    rejected(d, RejectCode.CREDENTIAL_REVOKED, "revoked")
    assert DESK_KEY not in d.message
    assert h.submit(MM_KEY, account="mm-1", strategy="quotes").accepted


# -- 3. instance gate ----------------------------------------------------------------------


def test_submit_when_never_registered_rejects_with_INSTANCE_NOT_ATTESTED() -> None:
    d = build(start=False).submit()
    rejected(d, RejectCode.INSTANCE_NOT_ATTESTED, "gw-1", "not registered")
    assert limits(d) == ("attested release", "not registered with the control plane")


def test_submit_when_lease_not_renewed_rejects_with_CONTROL_PLANE_LOST() -> None:
    clock = ManualClock(START_NS)
    h = build(clock=clock)
    clock.advance_ms(1_999)
    h.refresh_references()
    assert h.submit(quantity=100).accepted  # 1 ms before the deadline
    clock.advance_ms(251)
    h.refresh_references()
    d = h.submit(quantity=200)
    rejected(d, RejectCode.CONTROL_PLANE_LOST, "lease expired 250 ms ago")
    assert limits(d) == ("fresh lease", "expired 250 ms")
    assert h.submit(quantity=300).code is RejectCode.CONTROL_PLANE_LOST
    assert h.gateway.heartbeat() is True  # the lease is gone: it joins again, attested anew
    assert h.submit(quantity=300).accepted


def test_submit_when_not_ready_at_the_open_rejects_with_NOT_READY() -> None:
    h = build()  # 10:00 New York: the open (09:30) has passed and is not judged yet
    clock = h.clock
    assert isinstance(clock, ManualClock)
    clock.advance_ms(60_000)  # no reference price for a minute: the reference check fails
    assert h.gateway.heartbeat()
    assert not h.gateway.preopen.look().ready
    h.refresh_references()  # the cause clears; the block (until = "ack") stays
    d = h.submit(quantity=100)
    rejected(d, RejectCode.NOT_READY, "not ready at the open", "reference: 12 symbol(s)",
             "a person's acknowledgement")  # fmt: skip
    assert limits(d) == ("ready at the open", "1 cause(s)")
    h.gateway.preopen.acknowledge("ops")
    assert h.submit(quantity=100).accepted


def test_submit_when_not_yet_reconciled_with_the_venue_rejects_with_VENUE_RECONCILING() -> None:
    h = build(start=False)
    gate = threading.Event()
    real = h.venue.reconcile

    def held(orders: Any, timeout_s: float = 0.0) -> Any:
        assert gate.wait(5), "the test never let the venue answer"
        return real(orders, timeout_s)

    h.venue.reconcile = held  # type: ignore[method-assign]
    h.gateway.start(reconcile_in_background=True)
    h.refresh_references()
    d = h.submit(quantity=100)
    rejected(d, RejectCode.VENUE_RECONCILING, "reconciling its open orders with the venue")
    assert limits(d) == ("reconciliation complete", "reconciling")
    gate.set()
    assert h.gateway.wait_reconciled(5) is not None
    assert h.submit(quantity=100).accepted


def test_submit_when_fleet_moved_to_a_newer_epoch_rejects_with_STALE_EPOCH() -> None:
    h = build()
    h.plane.set_release(Release("", "", 2))
    d = h.submit()
    rejected(d, RejectCode.STALE_EPOCH, "epoch 1", "epoch 2")
    assert limits(d) == ("2", "1")


def test_submit_when_most_members_attest_another_build_rejects_with_FLEET_NO_QUORUM() -> None:
    h = build()
    for other in ("gw-2", "gw-3"):
        h.plane.register(Attestation(other, "old-build", "", "", "host", 1), 10**12)
    d = h.submit()
    rejected(d, RejectCode.FLEET_NO_QUORUM, "1 live member(s)", "quorum is 2 of 3")
    assert limits(d) == ("2", "1")


# -- 4. kill switch and 5. idempotency -----------------------------------------------------

HALT_SCOPES = {
    HaltScope.GLOBAL: ("", "all trading"),
    HaltScope.ACCOUNT: ("desk-7", "account desk-7"),
    HaltScope.STRATEGY: ("vwap", "strategy vwap"),
    HaltScope.SYMBOL: ("AAPL", "symbol AAPL"),
    HaltScope.INSTANCE: ("gw-1", "instance gw-1"),
}


@pytest.mark.parametrize("scope", HALT_SCOPES)
def test_submit_when_halt_covers_order_rejects_with_HALTED(scope: HaltScope) -> None:
    target, where = HALT_SCOPES[scope]
    h = build()
    h.gateway.halt(scope, target, "runaway strategy", "risk-officer")
    d = h.submit()
    rejected(d, RejectCode.HALTED, f"{where} halted by risk-officer: runaway strategy")
    assert limits(d) == (f"halt {scope.value}:{target}", "desk-7/vwap/AAPL")
    assert h.gateway.resume(scope, target, "risk-officer") is True
    assert h.submit().accepted


def test_submit_when_key_reused_for_another_payload_rejects_with_IDEMPOTENCY_CONFLICT() -> None:
    h = build()
    first = h.submit(idempotency_key="k-1", quantity=100)
    d = h.submit(idempotency_key="k-1", quantity=200)
    rejected(d, RejectCode.IDEMPOTENCY_CONFLICT, "'k-1'", "c1", "buy 100 AAPL")
    assert limits(d) == ("payload of c1", "c2")
    replay = h.submit(client_order_id="c1", idempotency_key="k-1", quantity=100)
    assert (replay.order_id, replay.replayed) == (first.order_id, True)  # first binding kept
    assert h.gateway.positions() == [("desk-7", "AAPL", 0, 100, 0)]


# -- 6. pre-trade checks -------------------------------------------------------------------


def test_submit_when_market_closed_after_the_close_rejects_with_MARKET_CLOSED() -> None:
    h = build(clock=ManualClock(new_york_ns("2025-08-01", "16:00")))
    d = h.submit()
    rejected(d, RejectCode.MARKET_CLOSED, "Fri 2025-08-01 16:00:00 America/New_York",
             "after the close at 16:00")  # fmt: skip
    assert limits(d) == ("a trading session", "2025-08-01 16:00:00 America/New_York")
    assert h.gateway.positions() == []


def test_submit_when_continuous_order_labelled_auction_rejects_with_SESSION_MISMATCH() -> None:
    h = build()  # START_NS: 10:00 New York, continuous
    d = h.submit(session=TradingSession.OPENING_AUCTION, limit_price=Decimal("108.00"))
    rejected(d, RejectCode.SESSION_MISMATCH, "labelled opening_auction",
             "2025-08-01 10:00:00 America/New_York is continuous")  # fmt: skip
    assert limits(d) == ("continuous", "opening_auction")


def test_submit_when_symbol_firm_restricted_rejects_with_RESTRICTED_SYMBOL() -> None:
    d = build().submit(symbol="KCG")
    rejected(d, RejectCode.RESTRICTED_SYMBOL, "KCG", "desk-7")
    assert limits(d) == ("restricted list", "KCG")


def test_submit_when_symbol_account_restricted_rejects_with_RESTRICTED_SYMBOL() -> None:
    h = build(config_with(accounts={"desk-7": desk7(restricted_symbols=["TSLA"])}))
    rejected(h.submit(symbol="TSLA"), RejectCode.RESTRICTED_SYMBOL, "TSLA")
    assert h.submit(MM_KEY, account="mm-1", strategy="mm", symbol="TSLA").accepted


AT = {TradingSession.PRE_OPEN: PRE_OPEN_NS, TradingSession.OPENING_AUCTION: AUCTION_NS}


@pytest.mark.parametrize("session", [TradingSession.OPENING_AUCTION, TradingSession.PRE_OPEN])
def test_submit_when_market_order_outside_allowed_sessions_rejects_with_MARKET_ORDER_NOT_ALLOWED(
    session: TradingSession,
) -> None:
    h = build(clock=ManualClock(AT[session]))  # the server's session, no label given
    d = h.submit(order_type=MARKET)
    rejected(d, RejectCode.MARKET_ORDER_NOT_ALLOWED, session.value, "allowed in: continuous")
    assert limits(d) == ("continuous", session.value)
    mm = h.submit(MM_KEY, account="mm-1", strategy="mm", order_type=MARKET)
    assert mm.accepted is (session is TradingSession.OPENING_AUCTION)


def test_submit_when_opening_auction_market_order_from_market_maker_is_accepted() -> None:
    h = build(clock=ManualClock(AUCTION_NS))
    d = h.submit(MM_KEY, account="mm-1", strategy="mm", order_type=MARKET,
                 session=TradingSession.OPENING_AUCTION)  # fmt: skip
    assert d.accepted
    assert h.gateway.order(d.order_id).status is OrderStatus.FILLED


def test_submit_when_quantity_over_limit_rejects_with_MAX_ORDER_QTY() -> None:
    d = build().submit(quantity=20_000)
    rejected(d, RejectCode.MAX_ORDER_QTY, "quantity 20,000 shares", "limit 10,000 shares")
    assert limits(d) == ("10000", "20000")


def test_submit_when_notional_over_limit_rejects_with_MAX_ORDER_NOTIONAL() -> None:
    d = build().submit(quantity=6_000)
    rejected(d, RejectCode.MAX_ORDER_NOTIONAL, "600,000 USD", "500,000 USD", "at limit price")
    assert limits(d) == ("500,000 USD", "600,000 USD")


def test_submit_when_market_order_valued_with_band_over_limit_rejects_with_MAX_ORDER_NOTIONAL():
    h = build()
    d = h.submit(order_type=MARKET, quantity=4_800)  # 4,800 x (100.00 + 5%) = 504,000
    rejected(d, RejectCode.MAX_ORDER_NOTIONAL, "504,000 USD", "500,000 USD", "plus band")
    assert limits(d) == ("500,000 USD", "504,000 USD")
    assert h.submit(order_type=MARKET, quantity=4_700).accepted  # 493,500


def test_submit_when_reference_older_than_max_age_rejects_with_REFERENCE_PRICE_STALE() -> None:
    clock = ManualClock(START_NS)
    h = build(clock=clock)
    advance(h, clock, 5_000)
    assert h.submit(quantity=100).accepted  # exactly the max age is still fresh
    advance(h, clock, 1)
    d = h.submit(quantity=200)
    rejected(d, RejectCode.REFERENCE_PRICE_STALE, "5,001 ms old", "max age 5,000 ms")
    assert limits(d) == ("5000 ms", "5001 ms")
    h.refresh_references()
    assert h.submit(quantity=200).accepted


def test_submit_when_symbol_never_priced_rejects_with_REFERENCE_PRICE_STALE() -> None:
    h = build(start=False)
    h.gateway.start()  # joined the fleet, but no reference price has arrived yet
    d = h.submit(order_type=MARKET)
    rejected(d, RejectCode.REFERENCE_PRICE_STALE, "no reference price for AAPL", "5,000 ms")
    assert limits(d) == ("5000 ms", "none")
    assert h.gateway.positions() == []


COLLARS = [  # session, side, rejected price, limit bps, attempted bps, accepted edge price
    (TradingSession.CONTINUOUS, Side.BUY, "105.01", 500, 501, "105.00"),
    (TradingSession.CONTINUOUS, Side.SELL_SHORT, "94.99", 500, 501, "95.00"),
    (TradingSession.PRE_OPEN, Side.BUY, "110.01", 1000, 1001, "110.00"),
    (TradingSession.PRE_OPEN, Side.SELL_SHORT, "89.99", 1000, 1001, "90.00"),
    (TradingSession.OPENING_AUCTION, Side.BUY, "110.01", 1000, 1001, "110.00"),
    (TradingSession.OPENING_AUCTION, Side.SELL_SHORT, "89.99", 1000, 1001, "90.00"),
]


@pytest.mark.parametrize(("session", "side", "price", "bps", "away", "edge"), COLLARS)
def test_submit_when_limit_outside_collar_rejects_with_PRICE_COLLAR(
    session: TradingSession, side: Side, price: str, bps: int, away: int, edge: str
) -> None:
    h = build(etb("AAPL"), clock=ManualClock(AT.get(session, START_NS)))  # sales from flat
    d = h.submit(side=side, session=session, limit_price=Decimal(price))
    pct = f"{away / 100:.2f}%"
    rejected(d, RejectCode.PRICE_COLLAR, f"limit {price}", pct, "reference 100.00",
             f"collar {bps // 100}%", session.value)  # fmt: skip
    assert limits(d) == (f"{bps} bps", f"{away} bps")
    assert h.submit(side=side, session=session, limit_price=Decimal(edge)).accepted


def test_submit_when_same_order_inside_window_rejects_with_DUPLICATE_ORDER() -> None:
    clock = ManualClock(START_NS)
    h = build(etb("AAPL"), clock=clock)
    assert h.submit().accepted
    clock.advance_ms(999)
    d = h.submit()
    rejected(d, RejectCode.DUPLICATE_ORDER, "desk-7 buy 100 AAPL @ 100.00", "999 ms ago",
             "window 1,000 ms")  # fmt: skip
    assert limits(d) == ("1000 ms", "999 ms")
    assert h.submit(quantity=101).accepted  # another quantity: no duplicate
    # another side, a tick above the working buys (at their price it would be SELF_TRADE)
    assert h.submit(side=Side.SELL_SHORT, limit_price=Decimal("100.01")).accepted
    clock.advance_ms(1)
    assert h.submit().accepted  # the window has passed


RATES = {  # envelope: (rates override, the orders that fill it, the one over, its message)
    "per_instance": (
        [dict(quantity=100), dict(symbol="MSFT", strategy="pairs", quantity=200)],
        dict(symbol="GOOG", strategy="smars", quantity=300),
        "instance rate: 3 orders in 1,000 ms, over limit 2",
        "2/1000 ms",
    ),
    "per_strategy": (
        [dict(quantity=100), dict(symbol="MSFT", quantity=200)],
        dict(symbol="GOOG", quantity=300),
        "strategy vwap rate: 3 orders in 1,000 ms, over limit 2",
        "2/1000 ms",
    ),
    "per_symbol": (
        [dict(quantity=100), dict(strategy="pairs", quantity=200)],
        dict(strategy="smars", quantity=300),
        "symbol AAPL rate: 3 orders in 1,000 ms, over limit 2",
        "2/1000 ms",
    ),
    "market_per_symbol": (
        [dict(order_type=MARKET, quantity=100), dict(order_type=MARKET, quantity=200)],
        dict(order_type=MARKET, quantity=300),
        "market orders in AAPL: 3 orders in 60,000 ms, over limit 2",
        "2/60000 ms",
    ),
}


@pytest.mark.parametrize("envelope", RATES)
def test_submit_when_envelope_full_rejects_with_RATE_LIMIT(envelope: str) -> None:
    orders, over, message, limit = RATES[envelope]
    window_ms = 60_000 if envelope == "market_per_symbol" else 1_000
    h = build(config_with(rates={envelope: {"count": 2, "window_ms": window_ms}}))
    assert all(h.submit(**o).accepted for o in orders)
    d = h.submit(**over)
    rejected(d, RejectCode.RATE_LIMIT, message)
    assert limits(d) == (limit, "3")
    outside = {  # an order the full envelope does not cover
        "per_instance": None,
        "per_strategy": dict(strategy="pairs", quantity=400),
        "per_symbol": dict(symbol="MSFT", quantity=400),
        "market_per_symbol": dict(quantity=400),
    }[envelope]
    if outside is not None:
        assert h.submit(**outside).accepted


def declare(h: Harness, qty: int = 1_000, parent_id: str = "P1") -> None:
    parent = ParentOrder(parent_id, "desk-7", "AAPL", Side.BUY, qty)
    assert h.gateway.declare_parent(parent, DESK_KEY) is None


def test_submit_when_open_children_pass_parent_rejects_with_PARENT_OVERFILL() -> None:
    h = build()
    declare(h)
    assert h.submit(parent_id="P1", quantity=600).accepted  # rests: open, not filled
    d = h.submit(parent_id="P1", quantity=500)
    rejected(d, RejectCode.PARENT_OVERFILL, "1,100 shares", "0 filled, 600 open, 500 new",
             "parent quantity 1,000")  # fmt: skip
    assert limits(d) == ("1000", "1100")
    assert h.submit(parent_id="P1", quantity=400).accepted  # exactly the parent


def test_submit_when_filled_and_open_children_pass_parent_rejects_with_PARENT_OVERFILL() -> None:
    h = build()
    declare(h)
    assert h.submit(parent_id="P1", quantity=400, order_type=MARKET).accepted  # fills
    working = h.submit(parent_id="P1", quantity=400)  # rests
    d = h.submit(parent_id="P1", quantity=300)
    rejected(d, RejectCode.PARENT_OVERFILL, "1,100 shares", "400 filled, 400 open, 300 new")
    assert limits(d) == ("1000", "1100")
    assert h.gateway.cancel(working.order_id, DESK_KEY) is None
    assert h.submit(parent_id="P1", quantity=300).accepted  # the cancel gave 400 back


def test_submit_when_parent_never_declared_rejects_with_PARENT_OVERFILL() -> None:
    d = build().submit(parent_id="P9", quantity=100)
    rejected(d, RejectCode.PARENT_OVERFILL, "P9 was never declared", "0 shares", "100")
    assert limits(d) == ("0", "100")


@pytest.mark.parametrize("mismatch", [dict(side=Side.SELL_SHORT), dict(symbol="MSFT")])
def test_submit_when_child_does_not_match_parent_rejects_with_PARENT_OVERFILL(
    mismatch: dict[str, Any],
) -> None:
    h = build(etb("AAPL"))
    declare(h)
    d = h.submit(parent_id="P1", quantity=100, **mismatch)
    rejected(d, RejectCode.PARENT_OVERFILL, "does not match parent P1", "desk-7 buy AAPL")
    assert limits(d) == ("0", "100")


def test_submit_when_open_buys_pass_position_limit_rejects_with_POSITION_LIMIT() -> None:
    h = build()  # desk-7 may hold 5,000 TSLA
    first = h.submit(symbol="TSLA", quantity=3_000)
    assert h.gateway.order(first.order_id).status is OrderStatus.WORKING  # open, not filled
    d = h.submit(symbol="TSLA", quantity=3_000, limit_price=Decimal("99.99"))
    rejected(d, RejectCode.POSITION_LIMIT, "long position 6,000 shares", "open 3,000",
             "order 3,000", "limit 5,000 shares")  # fmt: skip
    assert limits(d) == ("5000", "6000")
    assert h.submit(symbol="TSLA", quantity=2_000).accepted


def test_submit_when_open_sells_pass_position_limit_rejects_with_POSITION_LIMIT() -> None:
    h = build(etb("TSLA"))
    # a tick above the working buy at the mid, which it would otherwise cross (SELF_TRADE)
    assert h.submit(symbol="TSLA", side=Side.SELL_SHORT, quantity=3_000,
                    limit_price=Decimal("100.01")).accepted  # fmt: skip
    d = h.submit(symbol="TSLA", side=Side.SELL_SHORT, quantity=2_500)
    rejected(d, RejectCode.POSITION_LIMIT, "short position 5,500 shares", "limit 5,000")
    assert limits(d) == ("5000", "5500")


def test_submit_when_at_position_limit_a_risk_reducing_sell_is_accepted() -> None:
    h = build()
    assert h.submit(symbol="TSLA", quantity=3_000, order_type=MARKET).accepted  # fills
    assert h.submit(symbol="TSLA", quantity=2_000).accepted  # rests: worst case 5,000
    d = h.submit(symbol="TSLA", quantity=100)
    rejected(d, RejectCode.POSITION_LIMIT, "5,100 shares", "position 3,000", "open 2,000")
    # a tick above the working buy at the mid, which it would otherwise cross (SELF_TRADE)
    assert h.submit(symbol="TSLA", side=Side.SELL, quantity=3_000,
                    limit_price=Decimal("100.01")).accepted  # fmt: skip


def test_submit_when_account_gross_over_limit_rejects_with_GROSS_EXPOSURE_LIMIT() -> None:
    h = build(config_with(accounts={"desk-7": desk7(max_gross_notional="1000000")},
                          short_sale={"easy_to_borrow": ["AAPL"]}))  # fmt: skip
    assert h.submit(symbol="AAPL", quantity=5_000).accepted  # 500,000 each, at the mark
    assert h.submit(symbol="MSFT", quantity=5_000).accepted
    d = h.submit(symbol="GOOG", quantity=100)
    rejected(d, RejectCode.GROSS_EXPOSURE_LIMIT, "account desk-7", "1,010,000 USD",
             "limit 1,000,000 USD")  # fmt: skip
    assert limits(d) == ("1,000,000 USD", "1,010,000 USD")
    # adds no gross; a tick above the working buy at the mid (at it: SELF_TRADE), and so
    # 4,999 shares to stay inside desk-7's 500,000 USD an order
    assert h.submit(symbol="AAPL", side=Side.SELL_SHORT, quantity=4_999,
                    limit_price=Decimal("100.01")).accepted  # fmt: skip


def test_submit_when_firm_gross_over_limit_rejects_with_GROSS_EXPOSURE_LIMIT() -> None:
    h = build(config_with(firm={"max_gross_notional": "1000000"}))
    assert h.submit(symbol="AAPL", quantity=5_000).accepted
    assert h.submit(MM_KEY, account="mm-1", strategy="mm", symbol="MSFT", quantity=5_000).accepted
    d = h.submit(MM_KEY, account="mm-1", strategy="mm", symbol="GOOG", quantity=100)
    rejected(d, RejectCode.GROSS_EXPOSURE_LIMIT, "firm-wide", "1,010,000 USD",
             "limit 1,000,000 USD")  # fmt: skip
    assert limits(d) == ("1,000,000 USD", "1,010,000 USD")


def test_submit_when_sell_not_covered_by_position_rejects_with_SHORT_MARKING() -> None:
    h = build()
    assert h.submit(quantity=300, order_type=MARKET).accepted  # fills: desk-7 holds 300
    assert h.submit(side=Side.SELL, quantity=200, limit_price=Decimal("101.00")).accepted
    d = h.submit(side=Side.SELL, quantity=101, limit_price=Decimal("101.01"))
    rejected(d, RejectCode.SHORT_MARKING, "sell of 101 AAPL", "holds 300",
             "200 already on open sales", "at most 100")  # fmt: skip
    assert limits(d) == ("100", "101")


def test_submit_when_short_sale_over_its_locate_rejects_with_NO_LOCATE() -> None:
    h = build()
    assert h.gateway.add_locate("L1", "desk-7", "AAPL", 150, START_NS + 10**12, "pb", "ops") is None
    d = h.submit(side=Side.SELL_SHORT, quantity=151)
    rejected(d, RejectCode.NO_LOCATE, "short sale of 151 AAPL", "150 shares located",
             "account desk-7")  # fmt: skip
    assert limits(d) == ("150", "151")
    assert h.submit(side=Side.SELL_SHORT, quantity=150).accepted


def test_submit_when_quantity_over_share_of_adv_rejects_with_ADV_LIMIT() -> None:
    shares = {**load_config().limits.adv.shares, "AAPL": 300_000}  # 100 bps: 3,000
    h = build(config_with(adv={"max_order_bps": 100, "shares": shares}))
    d = h.submit(quantity=3_001)
    rejected(d, RejectCode.ADV_LIMIT, "3,001 AAPL", "limit 3,000 shares", "100 bps",
             "300,000")  # fmt: skip
    assert limits(d) == ("3000", "3001")
    assert h.submit(quantity=3_000).accepted


def test_submit_when_executed_plus_open_over_credit_rejects_with_CREDIT_LIMIT() -> None:
    h = build(config_with(accounts={"desk-7": desk7(credit_limit="1000000")}))
    assert h.submit(symbol="AAPL", quantity=4_000, order_type=MARKET).accepted  # at 100.01
    working = h.submit(symbol="MSFT", quantity=4_000)  # rests at 100.00
    d = h.submit(symbol="GOOG", quantity=2_000)
    rejected(d, RejectCode.CREDIT_LIMIT, "1,000,040 USD", "executed 400,040 USD",
             "open 400,000 USD", "order 200,000 USD", "credit limit 1,000,000 USD")  # fmt: skip
    assert limits(d) == ("1,000,000 USD", "1,000,040 USD")
    assert h.gateway.cancel(working.order_id, DESK_KEY) is None
    assert h.submit(symbol="GOOG", quantity=2_000).accepted  # only open credit comes back


def test_submit_when_marked_loss_over_limit_rejects_with_LOSS_LIMIT() -> None:
    h = build()
    assert h.submit(quantity=4_000, order_type=MARKET).accepted  # long 4,000 at 100.01
    h.gateway.update_reference("AAPL", 3_000)  # marked at 30.00: 280,040 USD down: halted
    assert h.gateway.resume(HaltScope.ACCOUNT, "desk-7", "risk-officer")  # a person resumes
    d = h.submit(symbol="MSFT")
    rejected(d, RejectCode.LOSS_LIMIT, "day loss 280,040 USD", "loss limit 250,000 USD")
    assert limits(d) == ("250,000 USD", "280,040 USD")
    assert h.submit(MM_KEY, account="mm-1", strategy="mm", symbol="MSFT").accepted


def test_submit_when_working_sell_of_the_same_account_crossed_rejects_with_SELF_TRADE() -> None:
    h = build(etb("AAPL"))
    assert h.submit(side=Side.SELL_SHORT, limit_price=Decimal("100.00")).accepted  # rests
    d = h.submit(limit_price=Decimal("100.00"))
    rejected(d, RejectCode.SELF_TRADE, "buy 100 AAPL @ 100.00", "sell @ 100.00", "group desk-7",
             "mode reject")  # fmt: skip
    assert limits(d) == ("no cross within group desk-7", "buy @ 100.00 vs sell @ 100.00")
    assert h.submit(limit_price=Decimal("99.99")).accepted  # below the sell: no cross


def test_submit_when_session_over_message_throttle_rejects_with_MESSAGE_RATE() -> None:
    h = build(config_with(messages={"per_session": {"count": 3, "window_ms": 1_000}}))
    assert h.submit(quantity=1).accepted
    assert h.submit(quantity=50_000).code is RejectCode.MAX_ORDER_QTY  # refused: a message
    assert h.submit(quantity=2).accepted
    d = h.submit(quantity=3)
    rejected(d, RejectCode.MESSAGE_RATE, "session desk-7-algo", "4 messages in 1,000 ms",
             "limit 3")  # fmt: skip
    assert limits(d) == ("3/1000 ms", "4")


def test_submit_when_orders_per_trade_over_limit_rejects_with_ORDER_TO_TRADE_RATIO() -> None:
    h = build(config_with(order_to_trade={"max_ratio": 2, "min_orders": 3}))
    assert h.submit(order_type=MARKET).accepted  # fills: 1 order, 1 trade
    assert h.submit(quantity=101).accepted and h.submit(quantity=102).accepted  # rest
    d = h.submit(quantity=103)  # 4 orders > 2 * 1 trade, past the floor of 3
    rejected(d, RejectCode.ORDER_TO_TRADE_RATIO, "account desk-7", "4 orders", "1 trades",
             "limit 2 orders per trade", "after 3 orders")  # fmt: skip
    assert limits(d) == ("2 orders per trade", "4 orders / 1 trades")


def test_submit_when_journal_unavailable_rejects_with_JOURNAL_UNAVAILABLE() -> None:
    journal = FaultyJournal()
    h = build(journal=journal)
    try:
        assert h.submit().accepted
        journal.break_store()
        h.gateway.submit(h.order(quantity=5), DESK_KEY)  # its write fails: the journal is down
        assert h.gateway.journal_watch.halted.wait(5)
        d = h.gateway.submit(h.order(quantity=7), DESK_KEY)
        rejected(d, RejectCode.JOURNAL_UNAVAILABLE, "No space left on device", "gw-1")
        assert d.seq == 0 and limits(d) == ("an available journal", "a new order")
    finally:
        journal.heal_store()
        h.gateway.close()


# -- the contract: every code has a test -----------------------------------------------------


def test_every_reject_code_has_a_test_in_this_module() -> None:
    module = sys.modules[__name__]
    names = [n for n in dir(module) if n.startswith("test_submit_when_")]
    tested = {c for c in ORDER_CODES if any(n.endswith(f"_rejects_with_{c}") for n in names)}
    missing = set(ORDER_CODES) - tested - set(NOT_YET_PRODUCED)
    assert missing == set()
    assert NOT_YET_PRODUCED == {}  # every code is produced by the gateway now
