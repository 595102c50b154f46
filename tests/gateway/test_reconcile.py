"""Reconciliation with the venue at start (gateway/reconcile.py), one rule per test, on the
simulated venue: a restart is a new gateway folding the journal as a crash left it (a
prefix of the events), on the same venue (it kept what it was sent) or a fresh one."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from decimal import Decimal

import pytest

from interlock.control.embedded import EmbeddedControlPlane
from interlock.domain.enums import HaltScope, OrderStatus, Side
from interlock.domain.events import Cancelled, Event, Filled, Routed
from interlock.domain.order import Order
from interlock.domain.reject import RejectCode
from interlock.errors import VenueError
from interlock.gateway.gateway import Gateway
from interlock.instance import build_instance
from interlock.journal.memory import MemoryJournal
from interlock.sim.harness import DESK_KEY, Harness, build
from interlock.venue.base import VenueStatus
from interlock.venue.simulated import SimulatedVenue

RESTING = Decimal("99.00")  # below the 100.00 mid: a buy that rests


def events_of(h: Harness, keep: Callable[[Event], bool] = lambda e: True) -> list[Event]:
    return [e for _, e in h.journal.read() if keep(e)]


def restart(h: Harness, events: Sequence[Event], venue: object | None = None,
            background: bool = False) -> Gateway:  # fmt: skip
    """A new gateway on a journal holding `events` (durable), on `venue` (default: the
    harness's, which keeps what it was sent)."""
    journal = MemoryJournal()
    for event in events:
        journal.append(event)
    journal.flush()
    gw = build_instance(h.gateway.config, journal=journal, venue=venue or h.venue,  # type: ignore[arg-type]
                        plane=EmbeddedControlPlane(clock=h.clock), clock=h.clock,
                        start=False)  # fmt: skip
    gw.start(reconcile_in_background=background)
    for symbol in h.market.symbols:
        gw.update_reference(symbol, h.market.mid(symbol))
    return gw


def resting_order(h: Harness, qty: int = 100) -> int:
    d = h.submit(limit_price=RESTING, quantity=qty)
    assert d.order_id is not None and h.venue.leaves(d.order_id) == qty
    return d.order_id


def open_buys(gw: Gateway) -> int:
    return sum(ob for a, s, _, ob, _ in gw.positions() if (a, s) == ("desk-7", "AAPL"))


def test_an_order_decided_but_never_routed_and_unknown_at_the_venue_is_cancelled() -> None:
    h = build()
    oid = resting_order(h)
    crashed = events_of(h, lambda e: not isinstance(e, Routed))  # died before the record
    gw = restart(h, crashed, venue=SimulatedVenue(h.market))  # a venue that never had it
    order = gw.order(oid)
    assert order is not None and order.status is OrderStatus.CANCELLED
    (cancel,) = [e for _, e in gw.journal.read() if isinstance(e, Cancelled)]
    assert cancel.reason.startswith("reconciliation: ") and cancel.qty == 100
    assert open_buys(gw) == 0  # the reservation is released
    assert gw.wait_reconciled(0) is not None and gw.wait_reconciled(0).closed == (oid,)  # type: ignore[union-attr]
    assert gw.health().gate == "routing"


def test_an_order_decided_not_routed_but_at_the_venue_is_working_and_gets_its_routed() -> None:
    h = build()
    oid = resting_order(h)
    crashed = events_of(h, lambda e: not isinstance(e, Routed))  # between send and record
    gw = restart(h, crashed)
    order = gw.order(oid)
    assert order is not None and order.status is OrderStatus.WORKING
    assert open_buys(gw) == 100
    assert [e.order_id for _, e in gw.journal.read() if isinstance(e, Routed)] == [oid]
    assert oid not in gw.state.unrouted


def test_a_routed_order_the_venue_no_longer_knows_is_cancelled() -> None:
    h = build()
    oid = resting_order(h)
    gw = restart(h, events_of(h), venue=SimulatedVenue(h.market))
    order = gw.order(oid)
    assert order is not None and order.status is OrderStatus.CANCELLED
    assert open_buys(gw) == 0


def test_fills_made_while_the_gateway_was_down_are_applied_once() -> None:
    h = build()
    oid = resting_order(h)
    h.venue.detach()  # the gateway is down: what happens now is never delivered
    h.market.set_mid("AAPL", h.gateway.instruments["AAPL"].to_ticks(Decimal("98.50")) or 0)
    assert h.venue.leaves(oid) < 100  # it traded at the venue
    gw = restart(h, events_of(h))
    order = gw.order(oid)
    assert order is not None and order.filled == 100 - h.venue.leaves(oid) > 0
    fills = [e for _, e in gw.journal.read() if isinstance(e, Filled)]
    assert fills and all(f.order_id == oid and f.price == 9_900 for f in fills)
    again = restart(h, [e for _, e in gw.journal.read()])  # and once more: no double count
    assert again.order(oid).filled == order.filled  # type: ignore[union-attr]
    assert again.wait_reconciled(0).fills == 0  # type: ignore[union-attr]


def test_an_order_closed_at_the_venue_with_shares_left_is_cancelled() -> None:
    h = build()
    oid = resting_order(h)
    h.venue.detach()
    h.venue.cancel(oid)  # cancelled at the venue while the gateway was down
    gw = restart(h, events_of(h))
    assert gw.order(oid).status is OrderStatus.CANCELLED  # type: ignore[union-attr]
    assert open_buys(gw) == 0


def test_an_open_order_at_the_venue_interlock_never_released_halts_its_account(
    caplog: pytest.LogCaptureFixture,
) -> None:
    h = build()
    resting_order(h)
    stray = h.gateway.order(1)
    assert stray is not None
    around = Order(**{f: getattr(stray, f) for f in stray.__struct_fields__})
    around.order_id, around.account = 777, "mm-1"
    h.venue.send(around)  # someone traded around the interlock
    with caplog.at_level(logging.ERROR):
        gw = restart(h, events_of(h))
    assert "traded around the interlock" in caplog.text
    assert any(r.scope is HaltScope.ACCOUNT and r.target == "mm-1" for r in gw.halts_in_force())
    assert gw.wait_reconciled(0).halted == ("mm-1",)  # type: ignore[union-attr]
    assert gw.submit(h.order(), DESK_KEY).accepted  # another account still trades


class HeldVenue(SimulatedVenue):
    """Answers reconciliation only once `answer` is set; with `fail`, raises instead."""

    answer: threading.Event
    fail: bool = False

    def reconcile(self, orders: Sequence[Order], timeout_s: float = 0.0) -> VenueStatus:
        if self.fail or not self.answer.wait(timeout_s):
            raise VenueError(f"venue did not answer within {timeout_s} s")
        return super().reconcile(orders, timeout_s)


def test_no_order_is_accepted_while_reconciliation_runs() -> None:
    h = build()
    venue = HeldVenue(h.market)
    venue.answer = threading.Event()
    gw = restart(h, events_of(h), venue=venue, background=True)
    refused = gw.submit(h.order(), DESK_KEY)
    assert refused.code is RejectCode.VENUE_RECONCILING
    assert gw.health().gate == "VENUE_RECONCILING"
    venue.answer.set()
    assert gw.wait_reconciled(5) is not None
    assert gw.submit(h.order(), DESK_KEY).accepted


def test_a_venue_that_cannot_answer_leaves_the_instance_closed_with_VENUE_RECONCILING() -> None:
    h = build()
    resting_order(h)
    venue = HeldVenue(h.market)
    venue.answer, venue.fail = threading.Event(), True
    gw = restart(h, events_of(h), venue=venue)
    report = gw.wait_reconciled(0)
    assert report is not None and "did not answer" in report.error
    refused = gw.submit(h.order(), DESK_KEY)
    assert refused.code is RejectCode.VENUE_RECONCILING and "could not reconcile" in refused.message
    assert gw.health().gate == "VENUE_RECONCILING"
    assert gw.order(1).status is OrderStatus.WORKING  # type: ignore[union-attr]  # not guessed
    assert gw.cancel(1, DESK_KEY) is None  # cancels still pass: they only reduce risk


def test_the_simulated_venue_answers_about_orders_it_never_saw() -> None:
    h = build()
    oid = resting_order(h)
    fresh = SimulatedVenue(h.market)
    order = h.gateway.order(oid)
    assert order is not None
    status = fresh.reconcile([order])
    assert not status.orders[oid].known and status.others == ()
    held = h.venue.reconcile([order])
    assert held.orders[oid].known and held.orders[oid].open and held.orders[oid].filled == 0
    assert h.gateway.order(oid).side is Side.BUY  # type: ignore[union-attr]
