"""A tap on the execution sink: the gateway hears a venue event first, then listeners do.

Transports that promised a caller reports (the FIX acceptor's ExecutionReports) need to
know when an order fills or is cancelled, but the gateway is the venue's one sink and
should not know about transports. So the venue is attached to an `ExecutionTap` instead:
it forwards every event to the gateway (which updates the book and journals it) and only
then tells each listener, so a listener reading the gateway's order sees the new state.
Nothing in the gateway changes; a listener that raises is logged and never stops the
gateway or the other listeners. Whether a fill is new is the gateway's call alone (it owns
the exec ids, and recovery rebuilds them from the journal): `on_fill` says whether it took
the fill, and listeners hear only the fills it took, so a fill resent by the venue (same
order and exec id), even after a restart, or refused by the gateway, is not told to them.
"""

from __future__ import annotations

import logging
from typing import Protocol

from interlock.venue.base import ExecutionSink

_log = logging.getLogger(__name__)


class ExecutionListener(Protocol):
    """Told of a venue event after the gateway has applied it."""

    def order_filled(self, order_id: int, qty: int, price: int, exec_id: str) -> None: ...

    def order_done(self, order_id: int, reason: str, cancelled: bool) -> None: ...


class ExecutionTap:
    """An `ExecutionSink` that forwards to `sink`, then to every listener."""

    def __init__(self, sink: ExecutionSink) -> None:
        self._sink = sink
        self._listeners: tuple[ExecutionListener, ...] = ()

    def add(self, listener: ExecutionListener) -> None:
        self._listeners = (*self._listeners, listener)

    def remove(self, listener: ExecutionListener) -> None:
        self._listeners = tuple(x for x in self._listeners if x is not listener)

    def on_fill(self, order_id: int, qty: int, price: int, exec_id: str) -> bool:
        if not self._sink.on_fill(order_id, qty, price, exec_id):
            return False  # a resend or a refused fill: the gateway dropped it, so do we
        for listener in self._listeners:
            try:
                listener.order_filled(order_id, qty, price, exec_id)
            except Exception:
                _log.exception("execution listener failed on fill of order %d", order_id)
        return True

    def on_cancelled(self, order_id: int, qty: int, reason: str) -> None:
        self._sink.on_cancelled(order_id, qty, reason)
        self._done(order_id, reason, cancelled=True)

    def on_rejected(self, order_id: int, reason: str) -> None:
        self._sink.on_rejected(order_id, reason)
        self._done(order_id, reason, cancelled=False)

    def _done(self, order_id: int, reason: str, cancelled: bool) -> None:
        for listener in self._listeners:
            try:
                listener.order_done(order_id, reason, cancelled)
            except Exception:
                _log.exception("execution listener failed on end of order %d", order_id)
