"""Reconciliation over real FIX: a gateway restarted against the FakeExchange (a QuickFIX
acceptor on 127.0.0.1) asks it with OrderMassStatusRequest (AF) and OrderStatusRequest (H)
and applies its ExecType I answers before trading.

While the gateway was down the exchange filled one of its resting orders (the report is
stored for a session that is down, and the new process's adapter cannot map it: only
reconciliation tells of it), the journal holds an order the exchange never got (a crash
after its record was durable, before it was sent), and an order the gateway never released
rests on the session (something traded around the interlock). Every wait is bounded.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import msgspec
from fix_rig import wait_until

from interlock.api.config import load_config
from interlock.control.embedded import EmbeddedControlPlane
from interlock.domain.clock import ManualClock
from interlock.domain.commands import OrderRequest
from interlock.domain.enums import HaltScope, OrderStatus, Side
from interlock.domain.events import Cancelled, Filled, OrderDecided
from interlock.gateway.gateway import Gateway
from interlock.journal.sqlite import SqliteJournal
from interlock.sim.fix import FakeExchange, free_port
from interlock.sim.harness import DESK_KEY, START_NS
from interlock.venue.fix import FixVenue

CLIENT = "RECON"  # CompIDs of its own: QuickFIX keeps stopped sessions registered
VENUE = "RECONVENUE"
GHOST = 90  # an order id the journal holds but the exchange never got


def gateway_on(
    root: Path, port: int, clock: ManualClock, venues: list[FixVenue]
) -> tuple[Gateway, FixVenue]:
    """A gateway on the journal in `root`, reconciling in the background until its FIX
    session (the same store: the sequence numbers carry on) has logged on and answered."""
    venue = FixVenue(port=port, work_dir=root / "venue", comp_id=CLIENT, venue_comp_id=VENUE,
                     file_log=True)  # fmt: skip
    venues.append(venue)
    gw = Gateway(load_config(), SqliteJournal(root / "journal.db"), venue,
                 EmbeddedControlPlane(clock=clock), clock=clock)  # fmt: skip
    venue.attach(gw)
    gw.start(reconcile_in_background=True)
    venue.start(10)
    assert gw.wait_reconciled(15) is not None
    gw.update_reference("AAPL", 10_000)
    return gw, venue


def order(cl: str, qty: int, price: str) -> OrderRequest:
    return OrderRequest(cl, "desk-7", "vwap", "AAPL", Side.BUY, qty, limit_price=Decimal(price))


def test_a_restart_reconciles_fills_ghosts_and_orders_traded_around_the_interlock(
    tmp_path: Path,
) -> None:
    port = free_port()
    exchange = FakeExchange(tmp_path / "exchange", port, VENUE, CLIENT, fill=False, file_log=True,
                            reset_on_logon=False).start()  # fmt: skip
    clock = ManualClock(START_NS)
    venues: list[FixVenue] = []
    gateways: list[Gateway] = []
    try:
        gw, venue = gateway_on(tmp_path, port, clock, venues)
        gateways.append(gw)
        filled = gw.submit(order("r1", 300, "99.00"), DESK_KEY).order_id
        working = gw.submit(order("r2", 50, "99.10"), DESK_KEY).order_id
        assert filled is not None and working is not None
        assert wait_until(lambda: {str(filled), str(working)} <= set(exchange.book(CLIENT)), 10)
        venues.remove(venue)
        venue.close()  # as the process ending would: a new adapter takes the session
        gateways.remove(gw)
        gw.close()
        assert wait_until(lambda: CLIENT not in exchange.logged_on_clients(), 10)

        exchange.fill_resting(CLIENT, str(filled), 300)  # while the gateway is down
        exchange.place(CLIENT, "9999", "mm-1", "MSFT", 10, "99.00")  # never released by us
        journal = SqliteJournal(tmp_path / "journal.db")  # a decision durable, never sent
        first = next(e for _, e in journal.read()
                     if isinstance(e, OrderDecided) and e.order_id == filled)  # fmt: skip
        assert first.request is not None
        ghost = msgspec.structs.replace(
            first, order_id=GHOST,
            request=msgspec.structs.replace(first.request, client_order_id="ghost"),
        )  # fmt: skip
        journal.append(ghost)
        journal.close()

        gw2, _ = gateway_on(tmp_path, port, clock, venues)
        gateways.append(gw2)
        report = gw2.wait_reconciled(0)
        assert report is not None and report.error == "", report
        done = gw2.order(filled)
        assert done is not None and done.status is OrderStatus.FILLED and done.filled == 300
        (fill,) = [e for _, e in gw2.journal.read() if isinstance(e, Filled)]
        assert fill.exec_id.startswith("E") and fill.price == 9_900 and fill.qty == 300
        lost = gw2.order(GHOST)
        assert lost is not None and lost.status is OrderStatus.CANCELLED
        (closed,) = [e for _, e in gw2.journal.read() if isinstance(e, Cancelled)]
        assert closed.order_id == GHOST and closed.reason.startswith("reconciliation: ")
        assert gw2.order(working).status is OrderStatus.WORKING  # type: ignore[union-attr]
        assert any(h.scope is HaltScope.ACCOUNT and h.target == "mm-1"
                   for h in gw2.halts_in_force())  # fmt: skip
        assert ("desk-7", "AAPL", 300, 50, 0) in gw2.positions()

        exchange.fill_resting(CLIENT, str(working), 50)  # the adapter adopted it
        assert wait_until(lambda: gw2.order(working).status is OrderStatus.FILLED, 10)  # type: ignore[union-attr]
        after = gw2.submit(order("r3", 20, "98.90"), DESK_KEY)
        assert after.accepted
        assert wait_until(lambda: str(after.order_id) in exchange.book(CLIENT), 10)
    finally:
        for v in venues:
            v.close()  # frees the session: later tests' adapters use the same CompIDs
        exchange.stop()
        for g in gateways:
            g.close()


def test_a_venue_that_never_logs_on_leaves_the_gateway_closed(tmp_path: Path) -> None:
    config = load_config().model_copy(update={"venue_reconcile_timeout_ms": 300})
    clock = ManualClock(START_NS)
    venue = FixVenue(port=free_port(), work_dir=tmp_path / "venue", comp_id="RECON2",
                     file_log=False)  # fmt: skip
    gw = Gateway(config, SqliteJournal(tmp_path / "journal.db"), venue,
                 EmbeddedControlPlane(clock=clock), clock=clock)  # fmt: skip
    venue.attach(gw)
    try:
        gw.start()
        report = gw.wait_reconciled(0)
        assert report is not None and "did not log on" in report.error
        assert gw.health().gate == "VENUE_RECONCILING"
        gw.update_reference("AAPL", 10_000)
        assert gw.submit(order("x", 10, "99.00"), DESK_KEY).code.value == "VENUE_RECONCILING"  # type: ignore[union-attr]
    finally:
        gw.close()
        venue.close()
