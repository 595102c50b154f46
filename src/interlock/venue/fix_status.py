"""The FIX venue's half of reconciliation: status requests out, ExecType I reports back.

For each order the journal holds open the adapter sends an OrderStatusRequest (H) with an
OrdStatusReqID of this round; the venue resends that order's executions (ExecType F,
carrying the OrdStatusReqID) and ends with an ExecutionReport of ExecType I (OrdStatus,
CumQty, LeavesQty; OrdStatus 8 with OrdRejReason 5: it never had the order). One
OrderMassStatusRequest (AF, MassStatusReqType 7: every order) asks for the rest: one
ExecType I report per order, TotNumReports (911) on each, LastRptRequested (912) on the
last. `StatusRound` collects one round's answers from the QuickFIX thread; the caller
waits for it, bounded, and reads a `VenueStatus`.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from decimal import Decimal

import quickfix as fix

from interlock.domain.instrument import Instrument
from interlock.domain.order import Order
from interlock.fixengine.codec import SIDE_CODES
from interlock.fixengine.engine import field, new_message
from interlock.venue.base import Execution, VenueOrder, VenueStatus

_OPEN = frozenset({"0", "1", "6", "A", "E"})  # new, partial, pending cancel/new/replace
_UNKNOWN_ORDER = "5"  # OrdRejReason: unknown order


def order_id_of(cl_ord_id: str) -> int:
    """The gateway's order id in a ClOrdID (ours are the id, a cancel's `id-cN`); 0 when
    it is none of ours."""
    head = cl_ord_id.split("-")[0]
    return int(head) if head.isdigit() else 0


class StatusRound:
    """One reconciliation round: its requests, and the reports that answer them."""

    def __init__(self, round_id: str, orders: Sequence[Order]) -> None:
        self.round_id = round_id
        self._orders = {o.order_id: o for o in orders}
        self._cond = threading.Condition()
        self._execs: dict[int, list[Execution]] = {oid: [] for oid in self._orders}
        self._status: dict[int, VenueOrder] = {}
        self._mass: list[VenueOrder] = []
        self._mass_done = False

    def requests(self) -> list[fix.Message]:
        """The AF, then one H per order."""
        mass = new_message("AF")
        mass.setField(584, self.round_id)
        mass.setField(585, "7")
        out = [mass]
        for order in self._orders.values():
            msg = new_message("H")
            msg.setField(790, self.round_id)
            msg.setField(11, str(order.order_id))
            msg.setField(55, order.symbol)
            msg.setField(54, SIDE_CODES[order.side])
            out.append(msg)
        return out

    def takes(self, message: fix.Message) -> bool:
        """True if `message` (an ExecutionReport) answers this round; then it is kept."""
        if field(message, 584) == self.round_id:
            self._mass_report(message)
            return True
        if field(message, 790) != self.round_id:
            return False
        oid = order_id_of(field(message, 11) or "")
        order = self._orders.get(oid)
        if order is None:
            return True  # ours, about an order not asked: nothing to keep
        if field(message, 150) == "I":
            known = not (field(message, 39) == "8" and field(message, 103) == _UNKNOWN_ORDER)
            with self._cond:
                self._status[oid] = VenueOrder(
                    oid,
                    known,
                    known and field(message, 39) in _OPEN,
                    _qty(field(message, 14)),
                    tuple(self._execs[oid]),
                    field(message, 1) or order.account,
                )
                self._cond.notify_all()
        elif field(message, 150) in ("F", "1", "2"):
            execution = _execution(message, order.instrument)
            with self._cond:
                if execution is not None:
                    self._execs[oid].append(execution)
        return True

    def _mass_report(self, message: fix.Message) -> None:
        with self._cond:
            if field(message, 911) != "0":
                cl = field(message, 11) or ""
                self._mass.append(VenueOrder(
                    order_id_of(cl), True, field(message, 39) in _OPEN,
                    _qty(field(message, 14)), (), field(message, 1) or "",
                ))  # fmt: skip
            if field(message, 912) == "Y":
                self._mass_done = True
            self._cond.notify_all()

    def wait(self, timeout_s: float) -> VenueStatus | None:
        """The venue's answer once every report came, or None after `timeout_s`."""
        with self._cond:
            complete = self._cond.wait_for(
                lambda: self._mass_done and len(self._status) == len(self._orders), timeout_s
            )
            if not complete:
                return None
            others = tuple(v for v in self._mass if v.order_id not in self._orders)
            return VenueStatus(dict(self._status), others)

    def missing(self) -> str:
        with self._cond:
            return (f"{len(self._status)} of {len(self._orders)} order status reports, "
                    f"mass status {'complete' if self._mass_done else 'incomplete'}")  # fmt: skip


def _qty(text: str | None) -> int:
    return int(Decimal(text or "0"))


def _execution(message: fix.Message, inst: Instrument) -> Execution | None:
    exec_id = field(message, 17)
    qty = _qty(field(message, 32))
    px = field(message, 31)
    if not exec_id or qty <= 0 or px is None:
        return None
    ticks = inst.to_ticks(Decimal(px))
    if ticks is None:
        ticks = int((Decimal(px) / inst.tick_size).to_integral_value())
    return Execution(exec_id, qty, ticks)


def adopted(status: VenueStatus, orders: Mapping[int, Order]) -> dict[int, tuple[Instrument, int]]:
    """The orders the adapter should route reports of from now on: those open at the
    venue, each with its instrument and what is left of it there."""
    out: dict[int, tuple[Instrument, int]] = {}
    for oid, got in status.orders.items():
        order = orders.get(oid)
        if order is not None and got.open:
            out[oid] = (order.instrument, order.qty - got.filled)
    return out
