"""Venue events to ExecutionReports: the acceptor's `ExecutionListener` half.

The `ExecutionTap` calls these after the gateway applied a fill or an order's end, on the
venue's thread. An order id the acceptor has not acked yet is held in `_early` while any
of its submits is unacked (the fill can beat the ack: see app.py), then replayed by the
ack; a finished order is reported once (`FixOrder.done`).
"""

from __future__ import annotations

import threading

import quickfix as fix

from interlock.api.fix.orders import FixOrder
from interlock.gateway.gateway import Gateway


def send(msg: fix.Message, session_id: fix.SessionID) -> None:
    fix.Session.sendToTarget(msg, session_id)


class VenueReports:
    _gw: Gateway
    _lock: threading.RLock
    _by_id: dict[int, FixOrder]
    _early: dict[int, list[tuple[int, int, str]]]
    _in_flight: int

    def order_filled(self, order_id: int, qty: int, price: int, exec_id: str) -> None:
        with self._lock:
            order = self._by_id.get(order_id)
            if order is None:
                if self._in_flight:
                    self._early.setdefault(order_id, []).append((qty, price, exec_id))
                return
            px = self._gw.instruments[order.request.symbol].to_price(price)
            order.cum_qty += qty
            order.cum_value += qty * px
            full = order.cum_qty >= order.request.quantity
            report = order.exec_report("F", "2" if full else "1", last=(qty, px))
            if full:
                order.finish("2")
            send(report, order.session_id)

    def order_done(self, order_id: int, reason: str, cancelled: bool) -> None:
        with self._lock:
            order = self._by_id.get(order_id)
            if order is None:
                if self._in_flight:
                    # held as (0 shares, 1 if cancelled, reason): a fill is never 0 shares
                    self._early.setdefault(order_id, []).append((0, int(cancelled), reason))
                return
            if order.done:
                return
            if order.replaced_by is not None:  # the desk was told "Replaced" already
                order.finish("4")
                return
            order.finish("4" if cancelled else "8")
            if cancelled:
                report = order.exec_report("4", "4", text=reason)
            else:
                report = order.exec_report("8", "8", text=f"venue rejected: {reason}", rej_reason=0)
            send(report, order.session_id)
