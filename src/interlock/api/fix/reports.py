"""Venue events to ExecutionReports: the acceptor's `ExecutionListener` half.

The `ExecutionTap` calls these after the gateway applied a fill or an order's end, on the
venue's thread, so the gateway's `Order` the report reads already holds the event. Every
order this acceptor placed is in `_by_id` from the moment the gateway accepted it
(`on_accept`, before the venue could have it); an id not there is another transport's.
A venue event can beat the ack (the gateway acks after the release, and a fast venue
fills inside `send`): it then sends the order's New (or Replaced) first, which is safe
because a released order's decision is durable. A finished order is reported once.
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
    _orders: dict[tuple[str, str], FixOrder]

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
        send(report, order.session_id)

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
            send(report, order.session_id)

    def order_done(self, order_id: int, reason: str, cancelled: bool) -> None:
        with self._lock:
            order = self._by_id.get(order_id)
            if order is None or order.end_reported:
                return
            self._announce(order)
            order.end_reported = True
            if order.replaced_by is not None:  # the desk was told "Replaced" already
                return
            if cancelled:
                report = order.exec_report("4", "4", text=reason)
            else:
                report = order.exec_report("8", "8", text=f"venue rejected: {reason}", rej_reason=0)
            send(report, order.session_id)
