"""The FIX initiator venue adapter against a QuickFIX acceptor playing the exchange."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from fix_rig import wait_until

from interlock.api.config import load_config
from interlock.control.embedded import EmbeddedControlPlane
from interlock.domain.commands import OrderRequest
from interlock.domain.enums import OrderStatus, Side
from interlock.errors import VenueError
from interlock.gateway.gateway import Gateway
from interlock.journal.sqlite import SqliteJournal
from interlock.sim.fix import FakeExchange, free_port
from interlock.sim.harness import DESK_KEY, START_NS, ManualClock
from interlock.venue.fix import FixVenue


@dataclass
class VenueRig:
    gateway: Gateway
    venue: FixVenue
    exchange: FakeExchange


@pytest.fixture(scope="module")
def vrig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VenueRig]:
    root = tmp_path_factory.mktemp("fixvenue")
    port = free_port()
    # no reset on Logon, as FixVenue: the session survives a reconnect with its numbers
    exchange = FakeExchange(root / "exchange", port, reset_on_logon=False).start()
    venue = FixVenue(port=port, work_dir=root / "venue")
    clock = ManualClock(START_NS)
    gw = Gateway(load_config(), SqliteJournal(root / "journal.db"), venue,
                 EmbeddedControlPlane(clock=clock), clock=clock)  # fmt: skip
    venue.attach(gw)
    gw.start(reconcile_in_background=True)  # it reconciles once the venue has logged on
    gw.update_reference("AAPL", 10_000)
    venue.start()
    assert gw.wait_reconciled(10) is not None
    yield VenueRig(gw, venue, exchange)
    venue.stop()
    exchange.stop()
    gw.close()


def _order(cl: str, qty: int, price: str) -> OrderRequest:
    return OrderRequest(cl, "desk-7", "vwap", "AAPL", Side.BUY, qty, limit_price=Decimal(price))


def test_accepted_order_reaches_the_exchange_and_its_fills_reach_positions(
    vrig: VenueRig,
) -> None:
    gw = vrig.gateway
    decision = gw.submit(_order("v1", 300, "100.00"), DESK_KEY)
    assert decision.accepted and decision.order_id is not None
    assert wait_until(lambda: str(decision.order_id) in vrig.exchange.orders)
    order = gw.order(decision.order_id)
    assert order is not None
    assert wait_until(lambda: order.status is OrderStatus.FILLED)
    assert ("desk-7", "AAPL", 300, 0, 0) in gw.positions()


def test_cancel_goes_to_the_exchange_and_releases_the_reservation(vrig: VenueRig) -> None:
    vrig.exchange.fill = False
    try:
        gw = vrig.gateway
        decision = gw.submit(_order("v2", 50, "99.50"), DESK_KEY)
        assert decision.order_id is not None
        assert wait_until(lambda: str(decision.order_id) in vrig.exchange.orders)
        assert gw.cancel(decision.order_id, DESK_KEY) is None
        order = gw.order(decision.order_id)
        assert order is not None
        assert wait_until(lambda: order.status is OrderStatus.CANCELLED)
        assert order.leaves == 0
    finally:
        vrig.exchange.fill = True


def test_a_cancel_asked_while_the_session_is_down_reaches_the_exchange_after_the_logon(
    vrig: VenueRig,
) -> None:
    """QuickFIX would store it and gap-fill it on the resend (an order message is never
    resent), leaving the order resting: it is kept and sent anew once logged on."""
    ex, gw = vrig.exchange, vrig.gateway
    ex.fill = False
    try:
        decision = gw.submit(_order("v3", 40, "99.40"), DESK_KEY)
        assert decision.order_id is not None
        resting = str(decision.order_id)
        assert wait_until(lambda: resting in ex.book("INTERLOCK"))
        ex.drop("INTERLOCK")
        assert wait_until(lambda: not vrig.venue.logged_on)
        assert gw.cancel(decision.order_id, DESK_KEY) is None
        assert resting in ex.book("INTERLOCK")  # nobody could tell the exchange yet
        ex.readmit("INTERLOCK")
        assert wait_until(lambda: resting not in ex.book("INTERLOCK"), 10)
        order = gw.order(decision.order_id)
        assert order is not None
        assert wait_until(lambda: order.status is OrderStatus.CANCELLED)
    finally:
        ex.readmit("INTERLOCK")
        ex.fill = True
        assert wait_until(lambda: vrig.venue.logged_on, 10)


def test_send_without_a_session_raises_VenueError(tmp_path: Path) -> None:
    venue = FixVenue(port=free_port(), work_dir=tmp_path)
    with pytest.raises(VenueError):
        venue.send(None)  # type: ignore[arg-type]
