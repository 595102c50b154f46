"""A venue over FIX: the `Venue` port as a QuickFIX initiator (FIX 4.4).

Accepted, durable orders go out as NewOrderSingle with ClOrdID = the gateway's order id,
so every ExecutionReport maps back to an order without a table that could be lost. Fills,
cancels and rejects come back into the gateway's `ExecutionSink` on QuickFIX's thread.
`send` while the session is down raises VenueError: the gateway then books the order as
venue-rejected and releases its reservation, instead of holding an order nobody has.

Sequence numbers persist in a file store (no ResetOnLogon), so a restart resumes the
session instead of resetting it. A new order or replace the venue asks us to resend
(PossDup) is never resent: QuickFIX sends a gap fill instead, so a reconnect cannot repeat
an order. A cancel is resent: it can only take risk off, and a cancel asked while the
session was down (a halt's) is stored by QuickFIX and reaches the venue on the reconnect.
A `drop_copy` session (venue/drop_copy.py), when configured, belongs to this venue: it is
started once the venue logged on and stopped with it, and `instance.build_instance` wires
its reports to the gateway's matcher. After `feed_marks`, each Logon subscribes to the
instruments' market data (V) and every snapshot (W) or refresh (X) moves the mark it
passes to `marks(symbol, ticks)`.

`reconcile` asks the venue with real status messages (fix_status.py: one AF, one H per
order) and, from its answer, adopts the orders still working there, so their later fills
reach the gateway after a restart; reports for orders it does not hold are logged, never
guessed at (reconciliation is what tells of them).
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path

import quickfix as fix

from interlock.domain.instrument import Instrument
from interlock.domain.order import Order
from interlock.errors import VenueError
from interlock.fixengine.codec import SIDE_CODES, TIF_CODES
from interlock.fixengine.engine import (
    Engine,
    SessionKey,
    field,
    msg_type,
    new_message,
    open_engine,
    write_settings,
)
from interlock.fixengine.marketdata import MarkBook, entries, market_data_request
from interlock.venue.base import ExecutionSink, VenueStatus
from interlock.venue.drop_copy import DropCopySession
from interlock.venue.fix_status import StatusRound, adopted

_log = logging.getLogger(__name__)
MarkSink = Callable[[str, int], None]
_NEVER_RESENT = frozenset({"D", "G"})  # new order, replace: a resend could repeat one


class FixVenue(fix.Application):  # type: ignore[misc]
    def __init__(
        self,
        sink: ExecutionSink | None = None,
        *,
        port: int,
        work_dir: Path,
        comp_id: str = "INTERLOCK",
        venue_comp_id: str = "VENUE",
        file_log: bool = True,
        host: str = "127.0.0.1",
        heartbeat_s: int = 30,
        reconnect_s: int = 1,
        store_dir: Path | None = None,
        instruments: Mapping[str, Instrument] | None = None,
        drop_copy: DropCopySession | None = None,
    ) -> None:
        super().__init__()
        self._sink: ExecutionSink | None = sink
        self.drop_copy = drop_copy
        self._instruments = dict(instruments or {})
        self._marks: MarkSink | None = None
        self._mark_book = MarkBook()
        self._md_requests = itertools.count(1)
        self._lock = threading.Lock()
        self._orders: dict[int, tuple[Instrument, int]] = {}  # order id -> (inst, leaves)
        self._cancel_ids = itertools.count(1)
        self._rounds = itertools.count(1)
        self._round: StatusRound | None = None
        self._session: fix.SessionID | None = None
        self._logged_on = threading.Event()
        work_dir.mkdir(parents=True, exist_ok=True)
        path = write_settings(
            work_dir / "venue.cfg",
            acceptor=False,
            port=port,
            sessions=[SessionKey(comp_id, venue_comp_id)],
            work_dir=work_dir,
            file_log=file_log,
            host=host,
            heartbeat_s=heartbeat_s,
            reconnect_s=reconnect_s,
            reset_on_logon=False,
            market_data=True,
            store_dir=store_dir,
        )
        self._engine: Engine | None = open_engine(self, path, acceptor=False, file_log=file_log)

    def attach(self, sink: ExecutionSink) -> None:
        """Report to `sink` (the gateway, built after its venue)."""
        self._sink = sink

    def feed_marks(self, marks: MarkSink) -> None:
        """Subscribe to the venue's market data on every Logon and pass each new mark of an
        instrument to `marks(symbol, ticks)` (the gateway's reference store)."""
        self._marks = marks

    def start(self, timeout: float = 5.0) -> FixVenue:
        """Connect and wait for the venue's Logon; VenueError when it does not come."""
        if self._engine is None:
            raise VenueError("FIX venue adapter is closed")
        self._engine.start()
        if not self._logged_on.wait(timeout):
            self._engine.stop()
            raise VenueError(f"venue did not log on within {timeout} s")
        if self.drop_copy is not None:
            self.drop_copy.start(self.drop_copy_timeout_s)  # down: alerted, not fatal
        return self

    drop_copy_timeout_s = 10.0
    """How long `start` waits for the drop copy's Logon (open_venue sets it from config)."""

    def stop(self) -> None:
        if self.drop_copy is not None:
            self.drop_copy.stop()
        if self._engine is not None:
            self._engine.stop()

    def close(self) -> None:
        """Stop, then free the QuickFIX engine: its sessions leave QuickFIX's process-wide
        registry, so a new adapter on the same session (a restart inside one process, as
        tests do) is the one `sendToTarget` finds, not this stopped one."""
        self.stop()
        if self.drop_copy is not None:
            self.drop_copy.close()
        self._engine = None

    @property
    def logged_on(self) -> bool:
        """The session is up: orders can be routed."""
        return self._logged_on.is_set()

    # -- the Venue port ----------------------------------------------------------------

    def send(self, order: Order) -> None:
        session = self._session
        if session is None or not self._logged_on.is_set():
            raise VenueError("FIX venue session is not logged on")
        msg = new_message("D")
        msg.setField(11, str(order.order_id))
        msg.setField(1, order.account)
        msg.setField(55, order.symbol)
        msg.setField(54, SIDE_CODES[order.side])
        msg.setField(38, str(order.qty))
        msg.setField(40, "1" if order.is_market else "2")
        if not order.is_market:
            msg.setField(44, str(order.instrument.to_price(order.price)))
        msg.setField(59, TIF_CODES[order.tif])
        with self._lock:
            self._orders[order.order_id] = (order.instrument, order.qty)
        if not fix.Session.sendToTarget(msg, session):
            with self._lock:
                self._orders.pop(order.order_id, None)
            raise VenueError(f"FIX venue refused order {order.order_id}")

    def cancel(self, order_id: int) -> None:
        session = self._session
        if session is None:
            raise VenueError("FIX venue session is not logged on")
        msg = new_message("F")
        msg.setField(11, f"{order_id}-c{next(self._cancel_ids)}")
        msg.setField(41, str(order_id))
        fix.Session.sendToTarget(msg, session)

    def reconcile(self, orders: Sequence[Order], timeout_s: float = 5.0) -> VenueStatus:
        """Ask the venue about `orders` and its own open ones (waiting for the Logon
        first); VenueError if the answers are not all in within `timeout_s`."""
        deadline = time.monotonic() + timeout_s
        if not self._logged_on.wait(timeout_s):
            raise VenueError(f"FIX venue session did not log on within {timeout_s} s")
        session = self._session
        assert session is not None  # logged on
        status_round = StatusRound(f"recon-{next(self._rounds)}-{time.time_ns()}", orders)
        self._round = status_round
        try:
            for msg in status_round.requests():
                if not fix.Session.sendToTarget(msg, session):
                    raise VenueError("FIX venue refused a status request")
            status = status_round.wait(max(0.0, deadline - time.monotonic()))
        finally:
            self._round = None
        if status is None:
            raise VenueError(f"FIX venue did not answer within {timeout_s} s: "
                             f"{status_round.missing()}")  # fmt: skip
        with self._lock:
            self._orders.update(adopted(status, {o.order_id: o for o in orders}))
        return status

    # -- QuickFIX callbacks ------------------------------------------------------------

    def onCreate(self, session_id: fix.SessionID) -> None:
        self._session = session_id

    def onLogon(self, session_id: fix.SessionID) -> None:
        self._logged_on.set()
        _log.warning("venue session %s logged on", session_id.toString())
        if self._marks is not None and self._instruments:
            req = market_data_request(f"md-{next(self._md_requests)}", sorted(self._instruments))
            fix.Session.sendToTarget(req, session_id)

    def onLogout(self, session_id: fix.SessionID) -> None:
        if self._logged_on.is_set():
            _log.error("venue session %s is down: orders cannot be routed", session_id.toString())
        self._logged_on.clear()

    def toAdmin(self, message: fix.Message, session_id: fix.SessionID) -> None:
        pass

    def fromAdmin(self, message: fix.Message, session_id: fix.SessionID) -> None:
        pass

    def toApp(self, message: fix.Message, session_id: fix.SessionID) -> None:
        header = message.getHeader()
        if (
            header.isSetField(43)
            and header.getField(43) == "Y"
            and msg_type(message) in _NEVER_RESENT
        ):
            raise fix.DoNotSend()  # a resend of an order: gap-fill it, never repeat it

    def fromApp(self, message: fix.Message, session_id: fix.SessionID) -> None:
        kind = msg_type(message)
        if kind in ("W", "X"):
            self._market_data(message, kind)
        elif kind == "9":
            _log.warning("venue refused a cancel: %s", field(message, 58))
        elif kind == "8":
            try:
                self._report(message)
            except (ValueError, InvalidOperation, KeyError):
                _log.exception("undecodable ExecutionReport from the venue")

    def _report(self, message: fix.Message) -> None:
        status_round = self._round
        if status_round is not None and status_round.takes(message):
            return  # an answer to reconciliation: the gateway applies it from there
        if field(message, 150) == "I" or field(message, 584) or field(message, 790):
            return  # a late answer to a round that is over
        exec_type = field(message, 150)
        ref = field(message, 41) if exec_type == "4" else None
        order_id = int((ref or field(message, 11) or "").split("-")[0])
        with self._lock:
            known = self._orders.get(order_id)
        if known is None:
            _log.warning("ExecutionReport for unknown order %d", order_id)
            return
        inst, leaves = known
        sink = self._sink
        if sink is None:
            _log.error("ExecutionReport for order %d with no sink attached", order_id)
            return
        if exec_type == "F":
            qty = int(Decimal(field(message, 32) or "0"))
            px = Decimal(field(message, 31) or "0")
            ticks = inst.to_ticks(px)
            if ticks is None:  # off our grid: book it at the nearest tick, and say so
                _log.error("fill price %s for order %d is off the tick grid", px, order_id)
                ticks = int((px / inst.tick_size).to_integral_value())
            # the gateway first: only a fill it took moves our leaves (a resend it dropped
            # must not, and one it could not take must leave the order known for the resend)
            if not sink.on_fill(order_id, qty, ticks, field(message, 17) or ""):
                return
            with self._lock:
                self._orders[order_id] = (inst, leaves - qty)
                if leaves - qty <= 0:
                    del self._orders[order_id]
        elif exec_type == "4":
            with self._lock:
                self._orders.pop(order_id, None)
            sink.on_cancelled(order_id, leaves, field(message, 58) or "cancelled by venue")
        elif exec_type == "8":
            with self._lock:
                self._orders.pop(order_id, None)
            sink.on_rejected(order_id, field(message, 58) or "rejected by venue")

    def _market_data(self, message: fix.Message, kind: str) -> None:
        """Fold a W or X into the marks; each symbol it moved is passed on once."""
        found = entries(message, kind)
        marks = self._marks
        if found is None or marks is None:
            if found is None:
                _log.warning("undecodable market data %s from the venue", kind)
            return
        moved: list[str] = []
        with self._lock:
            if kind == "W" and found:
                self._mark_book.reset(found[0].symbol)
            for entry in found:
                inst = self._instruments.get(entry.symbol)
                if inst is None:
                    continue
                ticks = inst.to_ticks(entry.price)
                if ticks is None:
                    ticks = int((entry.price / inst.tick_size).to_integral_value())
                self._mark_book.apply(entry.symbol, entry.kind, ticks)
                if entry.symbol not in moved:
                    moved.append(entry.symbol)
            updates = [(s, self._mark_book.mark(s)) for s in moved]
        for symbol, mark in updates:
            if mark is not None and mark > 0:
                marks(symbol, mark)
