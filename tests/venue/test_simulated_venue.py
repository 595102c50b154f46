"""The simulated venue and its market model: fills, rests, cancels and determinism."""

from __future__ import annotations

import threading
from collections.abc import Callable
from decimal import Decimal

import pytest

from interlock.domain.enums import Side, TimeInForce, TradingSession
from interlock.domain.instrument import Instrument
from interlock.domain.order import Order
from interlock.venue import ExecutionSink, MarketModel, SimulatedVenue, Venue

Call = tuple[object, ...]

MID, HALF, DEPTH = 10_000, 2, 500
BID, ASK = MID - HALF, MID + HALF


class RecordingSink:
    """Records every sink call in order; optionally runs a hook inside `on_fill`."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.lock = threading.RLock()
        self.on_fill_hook: Callable[[int], None] | None = None
        self._fills: list[tuple[int, int, int]] = []
        self._cancels: list[tuple[int, int, str]] = []

    def on_fill(self, order_id: int, qty: int, price: int, exec_id: str) -> bool:
        with self.lock:
            self.calls.append(("fill", order_id, qty, price, exec_id))
            self._fills.append((order_id, qty, price))
        if self.on_fill_hook is not None:
            self.on_fill_hook(order_id)
        return True

    def on_cancelled(self, order_id: int, qty: int, reason: str) -> None:
        with self.lock:
            self.calls.append(("cancelled", order_id, qty, reason))
            self._cancels.append((order_id, qty, reason))

    def on_rejected(self, order_id: int, reason: str) -> None:
        with self.lock:
            self.calls.append(("rejected", order_id, reason))

    def fills(self, order_id: int) -> list[tuple[int, int]]:
        """(qty, price) of each fill of `order_id`, in order."""
        return [(q, p) for oid, q, p in self._fills if oid == order_id]

    def cancels(self, order_id: int) -> list[tuple[int, str]]:
        """(qty, reason) of each cancel of `order_id`, in order."""
        return [(q, r) for oid, q, r in self._cancels if oid == order_id]


def order(
    order_id: int,
    side: Side = Side.BUY,
    qty: int = 100,
    price: int = 0,
    tif: TimeInForce = TimeInForce.DAY,
    symbol: str = "AAPL",
) -> Order:
    return Order(
        order_id=order_id,
        client_order_id=f"c{order_id}",
        account="a",
        strategy="s",
        symbol=symbol,
        side=side,
        sign=side.sign,
        qty=qty,
        price=price,
        value_ticks=price or MID,
        is_market=price == 0,
        tif=tif,
        session=TradingSession.CONTINUOUS,
        parent_id=None,
        instrument=Instrument(symbol, Decimal("0.01")),
        principal="p",
        ts=0,
        leaves=qty,
    )


def setup(
    seed: int = 0, ratio: float = 0.0, vol: int = 1, levels: int = 50
) -> tuple[MarketModel, SimulatedVenue, RecordingSink]:
    market = MarketModel({"AAPL": (MID, HALF, DEPTH)}, seed=seed, volatility_ticks=vol)
    sink = RecordingSink()
    venue = SimulatedVenue(market, sink, seed=seed, partial_fill_ratio=ratio, book_levels=levels)
    return market, venue, sink


def test_simulated_venue_satisfies_the_ports() -> None:
    _, venue, sink = setup()
    port: Venue = venue
    reporter: ExecutionSink = sink
    assert port is venue and reporter is sink


def test_market_buy_fills_at_ask_and_sell_at_bid() -> None:
    _, venue, sink = setup()
    venue.send(order(1, Side.BUY, 100))
    venue.send(order(2, Side.SELL, 100))
    venue.send(order(3, Side.SELL_SHORT, 100))
    assert sink.calls == [
        ("fill", 1, 100, ASK, "X1"),
        ("fill", 2, 100, BID, "X2"),
        ("fill", 3, 100, BID, "X3"),
    ]


@pytest.mark.parametrize(("side", "touch"), [(Side.BUY, ASK), (Side.SELL, BID)])
def test_market_order_over_depth_walks_the_book_and_never_improves(side: Side, touch: int) -> None:
    _, venue, sink = setup(seed=7)
    venue.send(order(1, side, 5_000))
    fills = sink.fills(1)
    assert len(fills) > 1
    assert sum(q for q, _ in fills) == 5_000
    assert fills[0] == (DEPTH, touch)
    prices = [side.sign * p for _, p in fills]
    assert prices == sorted(prices)  # each level is one tick worse than the last
    assert [side.sign * (p - touch) for _, p in fills] == list(range(len(fills)))


def test_market_order_beyond_the_book_cancels_the_remainder() -> None:
    _, venue, sink = setup(levels=2)
    venue.send(order(1, Side.BUY, 100_000))
    filled = sum(q for q, _ in sink.fills(1))
    assert filled < 100_000
    assert sink.cancels(1) == [(100_000 - filled, "market remainder: no liquidity within 2 levels")]
    assert venue.open_order_ids() == ()


def test_crossing_limit_buy_fills_at_the_touch_not_the_limit() -> None:
    _, venue, sink = setup()
    venue.send(order(1, Side.BUY, 100, price=ASK + 8))
    venue.send(order(2, Side.SELL, 100, price=BID - 8))
    assert sink.fills(1) == [(100, ASK)]
    assert sink.fills(2) == [(100, BID)]


def test_crossing_limit_over_depth_fills_partially_and_rests_the_remainder() -> None:
    _, venue, sink = setup()
    venue.send(order(1, Side.BUY, 800, price=ASK))
    assert sink.calls == [("fill", 1, DEPTH, ASK, "X1")]
    assert venue.leaves(1) == 800 - DEPTH


def test_partial_fill_ratio_one_always_leaves_a_remainder() -> None:
    _, venue, sink = setup(seed=3, ratio=1.0)
    venue.send(order(1, Side.BUY, DEPTH, price=ASK))
    ((qty, price),) = sink.fills(1)
    assert 1 <= qty < DEPTH and price == ASK
    assert venue.leaves(1) == DEPTH - qty


def test_limit_not_crossing_rests_then_fills_when_steps_move_the_market_through_it() -> None:
    market, venue, sink = setup(seed=11, vol=4)
    limit = BID - 10
    venue.send(order(1, Side.BUY, 100, price=limit))
    assert sink.calls == [] and venue.leaves(1) == 100
    for _ in range(10_000):
        if venue.leaves(1) == 0:
            break
        market.step()
    assert sum(q for q, _ in sink.fills(1)) == 100
    assert all(p == limit for _, p in sink.fills(1))  # a resting order fills at its limit


def test_resting_sell_fills_when_the_bid_rises_through_it() -> None:
    market, venue, sink = setup()
    venue.send(order(1, Side.SELL, 100, price=ASK + 5))
    market.set_mid("AAPL", MID + 4)  # bid = ASK + 2: not yet
    assert sink.calls == []
    market.set_mid("AAPL", MID + 9)  # bid = ASK + 5
    assert sink.calls == [("fill", 1, 100, ASK + 5, "X1")]
    assert venue.open_order_ids() == ()


def test_resting_orders_share_the_depth_best_price_first() -> None:
    market, venue, sink = setup()
    venue.send(order(1, Side.BUY, 400, price=BID - 1))
    venue.send(order(2, Side.BUY, 400, price=BID))
    market.set_mid("AAPL", BID - 1 - HALF)  # ask = BID - 1: both crossed, 500 shown
    assert sink.calls == [("fill", 2, 400, BID, "X1"), ("fill", 1, 100, BID - 1, "X2")]
    assert venue.leaves(1) == 300


def test_ioc_remainder_is_cancelled_at_once() -> None:
    _, venue, sink = setup()
    venue.send(order(1, Side.BUY, 800, price=ASK, tif=TimeInForce.IOC))
    venue.send(order(2, Side.BUY, 100, price=BID, tif=TimeInForce.IOC))
    assert sink.calls == [
        ("fill", 1, DEPTH, ASK, "X1"),
        ("cancelled", 1, 800 - DEPTH, "IOC remainder"),
        ("cancelled", 2, 100, "IOC remainder"),
    ]
    assert venue.open_order_ids() == ()


def test_fok_fills_in_full_or_cancels_everything() -> None:
    _, venue, sink = setup()
    venue.send(order(1, Side.BUY, 800, price=ASK, tif=TimeInForce.FOK))
    venue.send(order(2, Side.BUY, DEPTH, price=ASK, tif=TimeInForce.FOK))
    venue.send(order(3, Side.SELL, 2_000, tif=TimeInForce.FOK))
    assert sink.cancels(1) == [(800, "FOK not filled in full")]
    assert sink.fills(1) == []
    assert sink.fills(2) == [(DEPTH, ASK)]
    assert sum(q for q, _ in sink.fills(3)) == 2_000
    assert venue.open_order_ids() == ()


def test_cancel_releases_leaves_and_a_second_cancel_is_only_counted() -> None:
    _, venue, sink = setup()
    venue.send(order(1, Side.BUY, 800, price=ASK))
    venue.cancel(1)
    assert sink.calls[-1] == ("cancelled", 1, 800 - DEPTH, "cancelled on request")
    assert venue.leaves(1) == 0
    calls = len(sink.calls)
    venue.cancel(1)
    venue.cancel(99)
    assert len(sink.calls) == calls
    assert venue.cancel_rejects == 2


def test_unknown_symbol_and_bad_orders_are_rejected() -> None:
    _, venue, sink = setup()
    venue.send(order(1, symbol="MSFT"))
    venue.send(order(2, qty=0))
    venue.send(order(3, price=BID))
    venue.send(order(3, price=BID))
    assert sink.calls[0] == ("rejected", 1, "unknown symbol at venue")
    assert sink.calls[1][:2] == ("rejected", 2)
    assert sink.calls[2] == ("rejected", 3, "duplicate order id at venue")
    assert venue.open_order_ids() == (3,)


def test_events_wait_for_a_sink_and_arrive_on_attach() -> None:
    market = MarketModel({"AAPL": (MID, HALF, DEPTH)})
    venue = SimulatedVenue(market)
    venue.send(order(1))
    sink = RecordingSink()
    venue.attach(sink)
    assert sink.calls == [("fill", 1, 100, ASK, "X1")]


def test_sink_calling_cancel_from_on_fill_gets_events_in_order() -> None:
    _, venue, sink = setup()
    sink.on_fill_hook = venue.cancel
    venue.send(order(1, Side.BUY, 800, price=ASK))
    assert sink.calls == [
        ("fill", 1, DEPTH, ASK, "X1"),
        ("cancelled", 1, 800 - DEPTH, "cancelled on request"),
    ]


def script(market: MarketModel, venue: SimulatedVenue) -> None:
    """A mixed program whose outcome depends on both seeds."""
    for i in range(1, 41):
        side = Side.BUY if i % 2 else Side.SELL
        if i % 5 == 0:
            venue.send(order(i, side, 3_000))
        else:
            venue.send(order(i, side, 50 * i, price=MID - side.sign * (i % 7)))
        market.step(3)
        if i % 6 == 0:
            venue.cancel(i - 3)


def run(market_seed: int, venue_seed: int) -> list[Call]:
    market = MarketModel({"AAPL": (MID, HALF, DEPTH)}, seed=market_seed, volatility_ticks=3)
    sink = RecordingSink()
    venue = SimulatedVenue(market, sink, seed=venue_seed, partial_fill_ratio=0.5)
    script(market, venue)
    return sink.calls


def test_same_seeds_give_the_same_sink_calls_and_other_seeds_do_not() -> None:
    assert run(1, 2) == run(1, 2)
    assert run(1, 2) != run(1, 3)
    assert run(1, 2) != run(4, 2)


def test_every_order_is_accounted_for_under_threads() -> None:
    market = MarketModel({"AAPL": (MID, HALF, 50)}, seed=5, volatility_ticks=3)
    sink = RecordingSink()
    venue = SimulatedVenue(market, sink, seed=5)

    def trader(base: int) -> None:
        for i in range(200):
            side = Side.BUY if i % 2 else Side.SELL
            oid = base + i
            venue.send(order(oid, side, 120, price=MID - side.sign * (i % 4)))
            if i % 3 == 0:
                venue.cancel(oid)

    threads = [threading.Thread(target=trader, args=(k * 1_000,)) for k in range(4)]
    threads.append(threading.Thread(target=market.step, args=(500,)))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for k in range(4):
        for i in range(200):
            oid = k * 1_000 + i
            done = sum(q for q, _ in sink.fills(oid)) + sum(q for q, _ in sink.cancels(oid))
            assert done + venue.leaves(oid) == 120


def test_market_model_quotes_walks_deterministically_and_notifies() -> None:
    a = MarketModel({"AAPL": (MID, HALF, DEPTH), "IBM": (500, 1, 10)}, seed=9, volatility_ticks=2)
    b = MarketModel({"IBM": (500, 1, 10), "AAPL": (MID, HALF, DEPTH)}, seed=9, volatility_ticks=2)
    heard: list[tuple[str, int]] = []
    a.subscribe(lambda symbol, mid: heard.append((symbol, mid)))
    assert a.quote("AAPL") == (BID, ASK, DEPTH)
    a.step(50)
    b.step(50)
    assert a.quote("AAPL") == b.quote("AAPL") and a.quote("IBM") == b.quote("IBM")
    assert heard
    assert all(a.mid(symbol) == mid for symbol, mid in dict(heard).items())


def test_market_model_keeps_the_bid_at_one_tick_or_more() -> None:
    market = MarketModel({"PENNY": (3, 2, 10)}, seed=1, volatility_ticks=50)
    for _ in range(200):
        market.step()
        bid, ask, _ = market.quote("PENNY")
        assert bid >= 1 and ask - bid == 4


@pytest.mark.parametrize("book", [(100, 0, 10), (100, 1, 0), (2, 2, 10)])
def test_market_model_refuses_impossible_books(book: tuple[int, int, int]) -> None:
    with pytest.raises(ValueError):
        MarketModel({"X": book})
