"""The scripted venue (sim/scripted_venue.py): the fills, refusals and in-flight cancels a
test asks for, reported to the sink as the simulated venue reports its own; and a market
listener that unsubscribes hears no more prices."""

from __future__ import annotations

from test_simulated_venue import BID, DEPTH, HALF, MID, RecordingSink, order

from interlock.domain.enums import Side
from interlock.sim.scripted_venue import ScriptedVenue
from interlock.venue import MarketModel


def setup() -> tuple[MarketModel, ScriptedVenue, RecordingSink]:
    market = MarketModel({"AAPL": (MID, HALF, DEPTH)}, seed=0, volatility_ticks=0)
    sink = RecordingSink()
    return market, ScriptedVenue(market, sink, seed=0, partial_fill_ratio=0.0), sink


def test_execute_fills_part_then_the_rest_of_a_resting_order_at_its_limit() -> None:
    _, venue, sink = setup()
    venue.send(order(1, Side.BUY, 100, price=BID - 3))  # below the touch: rests
    assert venue.execute(1, 40) == 40 and venue.leaves(1) == 60
    assert venue.execute(1, 500) == 60  # no more than its leaves
    assert sink.fills(1) == [(40, BID - 3), (60, BID - 3)]
    assert venue.open_order_ids() == () and venue.execute(1, 1) == 0
    assert venue.reconcile([]).others[0].filled == 100  # the venue remembers it


def test_a_held_cancel_lets_a_late_fill_through_then_cancels_the_rest() -> None:
    _, venue, sink = setup()
    venue.send(order(1, Side.BUY, 100, price=BID - 3))
    venue.hold_cancels()
    venue.cancel(1)
    assert sink.cancels(1) == [] and venue.held == [1]  # in flight
    assert venue.execute(1, 30) == 30  # crosses the cancel
    assert venue.release_cancels() == 1
    assert sink.cancels(1) == [(70, "cancelled on request")]
    assert venue.cancels_received == [1] and not venue.holding


def test_a_refused_symbol_venue_rejects_new_orders_until_reopened() -> None:
    _, venue, sink = setup()
    venue.refuse("AAPL")
    venue.send(order(1, Side.BUY, 100, price=BID - 3))
    assert sink.calls == [("rejected", 1, "AAPL halted at venue")]
    venue.refuse("AAPL", False)
    venue.send(order(2, Side.BUY, 100, price=BID - 3))
    assert venue.open_order_ids() == (2,)


def test_an_unsubscribed_listener_hears_no_more_mids() -> None:
    market, _, _ = setup()
    heard: list[int] = []

    def listener(symbol: str, mid: int) -> None:
        heard.append(mid)

    market.subscribe(listener)
    market.set_mid("AAPL", MID + 1)
    market.unsubscribe(listener)
    market.set_mid("AAPL", MID + 2)
    assert heard == [MID + 1]
