"""Venue events to ExecutionReports: the acceptor's `ExecutionListener` half.

The `ExecutionTap` calls these after the gateway applied a fill or an order's end, on the
venue's thread, so the gateway's `Order` the report reads already holds the event. Every
order this acceptor placed is in `_by_id` from the moment the gateway accepted it
(`on_accept`, before the venue could have it); an id not there is another transport's.
A venue event can beat the ack (the gateway acks after the release, and a fast venue
fills inside `send`): it then sends the order's New (or Replaced) first, which is safe
because a released order's decision is durable. A finished order is reported once.

Sending. Reports are decided under the acceptor's lock but never sent under it (app.py,
"Locks"): `_post` queues each one as it is decided, and `_flush`, called by every entry
point once it has let the lock go, sends the queue in order. One thread sends at a time
(so a session's reports leave in the order they were decided); a thread that finds
another sending leaves its reports to it rather than wait, so a QuickFIX callback (which
holds its session's mutex) never blocks on a sender that waits for that same mutex.
"""

from __future__ import annotations

import logging
import threading
from collections import deque

import quickfix as fix

from interlock.api.fix.orders import FixOrder
from interlock.gateway.gateway import Gateway

_log = logging.getLogger(__name__)


def send(msg: fix.Message, session_id: fix.SessionID) -> None:
    fix.Session.sendToTarget(msg, session_id)


class VenueReports:
    _gw: Gateway
    _lock: threading.RLock
    _by_id: dict[int, FixOrder]
    _open: dict[int, FixOrder]  # scans (cancel on disconnect, q) cost what is open, not the day
    _orders: dict[tuple[str, str], FixOrder]

    def __init__(self) -> None:
        super().__init__()
        self._outbox: deque[tuple[fix.Message, fix.SessionID]] = deque()
        self._sending = threading.Lock()

    def _post(self, msg: fix.Message, session_id: fix.SessionID) -> None:
        """Queue a report, in the order decided (under the lock or not); `_flush` sends it."""
        self._outbox.append((msg, session_id))

    def _flush(self) -> None:
        """Send every queued report, oldest first. Never call it holding `_lock`. Whoever
        holds `_sending` pops; one who cannot take it returns, and the holder, before it
        lets go for good, looks again, so no report is left behind."""
        outbox = self._outbox
        while outbox:
            if not self._sending.acquire(blocking=False):
                return  # the thread sending now sends ours too
            try:
                while outbox:
                    msg, session_id = outbox.popleft()
                    try:
                        send(msg, session_id)
                    except Exception:  # one session's fault never strands the others'
                        _log.exception("could not send a report to %s", session_id.toString())
            finally:
                self._sending.release()

    def _claim(self, order: FixOrder) -> None:
        """Under the lock: `order` takes its ClOrdID on its session (F, G, H and q find it
        there), unless the ClOrdID names an order already: only an accepted order may
        take it from a rejection (see app.py)."""
        ident = (order.counterparty, order.cl_ord_id)
        known = self._orders.get(ident)
        if known is None or (order.order is not None and known.order is None):
            self._orders[ident] = order

    def _announce(self, order: FixOrder) -> None:
        """Under the lock: the New (150=0) or Replaced (150=5) report, once, by whoever
        comes first, the ack or the order's first venue event. Its ClOrdID becomes the
        desk's to use in the same step: never before the desk can know it is accepted."""
        if order.announced:
            return
        order.announced = True
        self._claim(order)
        if order.replaces is not None:
            order.replaces.replaced_by = order.cl_ord_id
        report = order.exec_report("5" if order.replaces else "0", "0", as_accepted=True)
        self._post(report, order.session_id)

    def order_filled(self, order_id: int, qty: int, price: int, exec_id: str) -> None:
        with self._lock:
            order = self._by_id.get(order_id)
            state = None if order is None else order.order
            if order is None or state is None:
                return  # not an order of this acceptor
            self._announce(order)
            full = state.filled >= state.qty
            report = order.exec_report(
                "F", "2" if full else "1", last=(qty, state.instrument.to_price(price))
            )
            if full:
                order.end_reported = True
                self._open.pop(order_id, None)
            self._post(report, order.session_id)
        self._flush()

    def order_done(self, order_id: int, reason: str, cancelled: bool) -> None:
        with self._lock:
            order = self._by_id.get(order_id)
            if order is None or order.end_reported:
                return
            self._announce(order)
            order.end_reported = True
            self._open.pop(order_id, None)
            if order.replaced_by is not None:  # the desk was told "Replaced" already
                return
            if cancelled:
                report = order.exec_report("4", "4", text=reason)
            else:
                report = order.exec_report("8", "8", text=f"venue rejected: {reason}", rej_reason=0)
            self._post(report, order.session_id)
        self._flush()
