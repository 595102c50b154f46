"""The acceptor's record of one order it took over FIX, and the ExecutionReports it sends.

The gateway knows orders by integer id; a desk knows them by (session, ClOrdID). A
`FixOrder` links the two and keeps only what FIX itself needs: the session, the request
(ClOrdID and what a report repeats), the replace link and the cancel in flight. The
order's state (cumulative quantity, average price, leaves, status) is the gateway's
`Order`, handed over by `Gateway.submit`'s `on_accept` before the order can reach the
venue; reports read it, so there is no second copy to drift. Three flags say where the
acceptor is with it, not what the order is: `acked` (its ack ran), `announced` (its New or
Replaced went out: sent once, by the ack or by the first venue event, whichever comes
first) and `end_reported` (one end report leaves, even when a venue cancel and the
acceptor's own check race).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from decimal import Decimal

import quickfix as fix

from interlock.domain.commands import OrderRequest
from interlock.domain.enums import OrderStatus
from interlock.domain.order import Order
from interlock.fixengine.codec import ORD_TYPE_CODES, SIDE_CODES
from interlock.fixengine.engine import new_message

_exec_ids = itertools.count(1)
_AVG_PX = Decimal("0.000001")
_END_STATUS = {OrderStatus.FILLED: "2", OrderStatus.CANCELLED: "4", OrderStatus.VENUE_REJECTED: "8"}


@dataclass(slots=True)
class FixOrder:
    counterparty: str
    session_id: fix.SessionID
    request: OrderRequest
    replaces: FixOrder | None = None  # set on the new half of a replace (G)
    order: Order | None = None  # the gateway's, from on_accept; None: not accepted
    cancel_cl_ord_id: str | None = None  # a cancel (F) in flight
    replaced_by: str | None = None  # superseded by a replace: its end is not reported
    acked: bool = False  # its decision's ack ran (cancel-on-disconnect: see app.py)
    announced: bool = False  # New (150=0) or Replaced (150=5) sent
    end_reported: bool = False  # a filled, cancelled or rejected end sent

    @property
    def order_id(self) -> int | None:
        return None if self.order is None else self.order.order_id

    @property
    def cl_ord_id(self) -> str:
        return self.request.client_order_id

    @property
    def is_open(self) -> bool:
        """Accepted and not yet ended, as the gateway sees it."""
        return self.order is not None and self.order.status.is_open

    def ord_status(self) -> str:
        """OrdStatus (39) now: its end, else pending cancel, partly filled or new."""
        order = self.order
        if order is None:
            return "8"
        end = _END_STATUS.get(order.status)
        if end is not None:
            return end
        if self.cancel_cl_ord_id is not None:
            return "6"
        return "1" if order.filled else "0"

    def exec_report(
        self,
        exec_type: str,
        ord_status: str,
        *,
        last: tuple[int, Decimal] | None = None,
        text: str | None = None,
        rej_reason: int | None = None,
        as_accepted: bool = False,
    ) -> fix.Message:
        """ExecutionReport (8) for this order's current state (the gateway's order), or
        with `as_accepted` as it stood when accepted (the New or Replaced report: nothing
        filled yet, its fills follow in their own reports)."""
        req, order = self.request, self.order
        msg = new_message("8")
        msg.setField(37, str(order.order_id) if order is not None else "NONE")
        msg.setField(17, f"{order.order_id if order is not None else 0}-{next(_exec_ids)}")
        msg.setField(150, exec_type)
        msg.setField(39, ord_status)
        if self.cancel_cl_ord_id is not None and exec_type == "4":
            msg.setField(11, self.cancel_cl_ord_id)
            msg.setField(41, self.cl_ord_id)
        else:
            msg.setField(11, self.cl_ord_id)
            if self.replaces is not None:
                msg.setField(41, self.replaces.cl_ord_id)
        msg.setField(1, req.account)
        msg.setField(55, req.symbol)
        msg.setField(54, SIDE_CODES[req.side])
        msg.setField(40, ORD_TYPE_CODES[req.order_type])
        if req.limit_price is not None:
            msg.setField(44, str(req.limit_price))
        msg.setField(38, str(req.quantity))
        if as_accepted or order is None:
            filled, leaves = 0, req.quantity if as_accepted else 0
        else:
            filled, leaves = order.filled, order.leaves
        msg.setField(14, str(filled))
        msg.setField(151, str(leaves))
        if filled and order is not None:
            avg = order.instrument.to_price(order.filled_value) / filled
        else:
            avg = Decimal(0)
        msg.setField(6, f"{avg.quantize(_AVG_PX):f}")
        if last is not None:
            msg.setField(32, str(last[0]))
            msg.setField(31, str(last[1]))
        if rej_reason is not None:
            msg.setField(103, str(rej_reason))
        if text:
            msg.setField(58, text)
        return msg
