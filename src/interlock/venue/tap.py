"""A tap on the execution sink: the gateway hears a venue event first, then listeners do.

Transports that promised a caller reports (the FIX acceptor's ExecutionReports) need to
know when an order fills or is cancelled, but the gateway is the venue's one sink and
should not know about transports. So the venue is attached to an `ExecutionTap` instead:
it forwards every event to the gateway (which updates the book and journals it) and only
then tells each listener, so a listener reading the gateway's order sees the new state.
Nothing in the gateway changes; a listener that raises is logged and never stops the
gateway or the other listeners. A fill resent by the venue (same order and exec id) is
dropped by the gateway, and so listeners are not told of it twice either.
"""

from __future__ import annotations

import logging
import threading
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
        self._exec_ids: set[tuple[int, str]] = set()
        self._lock = threading.Lock()

    def add(self, listener: ExecutionListener) -> None:
        self._listeners = (*self._listeners, listener)

    def remove(self, listener: ExecutionListener) -> None:
        self._listeners = tuple(x for x in self._listeners if x is not listener)

    def on_fill(self, order_id: int, qty: int, price: int, exec_id: str) -> None:
        self._sink.on_fill(order_id, qty, price, exec_id)
        if exec_id:
            with self._lock:
                if (order_id, exec_id) in self._exec_ids:
                    return  # the gateway ignored this resend too
                self._exec_ids.add((order_id, exec_id))
        for listener in self._listeners:
            try:
                listener.order_filled(order_id, qty, price, exec_id)
            except Exception:
                _log.exception("execution listener failed on fill of order %d", order_id)

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
