"""The acceptor's view of one order it took over FIX, and the ExecutionReports it sends.

The gateway knows orders by integer id; a desk knows them by (session, ClOrdID). A
`FixOrder` links the two and keeps what an ExecutionReport must repeat (cumulative
quantity, average price) so reports never read the gateway's book from a venue thread.
`done` is set once, under the acceptor's lock, by whoever reports the order's end first:
a venue cancel and the acceptor's own check can race, but only one report leaves. `end`
keeps the OrdStatus (39) it ended with, so an OrderStatusRequest (H) can answer it.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from decimal import Decimal

import quickfix as fix

from interlock.domain.commands import OrderRequest
from interlock.fixengine.codec import ORD_TYPE_CODES, SIDE_CODES
from interlock.fixengine.engine import new_message

_exec_ids = itertools.count(1)
_AVG_PX = Decimal("0.000001")


@dataclass(slots=True)
class FixOrder:
    counterparty: str
    session_id: fix.SessionID
    request: OrderRequest
    replaces: FixOrder | None = None  # set on the new half of a replace (G)
    order_id: int | None = None
    cum_qty: int = 0
    cum_value: Decimal = Decimal(0)
    done: bool = False
    cancel_cl_ord_id: str | None = None  # a cancel (F) in flight
    replaced_by: str | None = None  # superseded by a replace: its end is not reported
    early: list[tuple[int, int, str]] = field(default_factory=list)
    end: str = ""  # OrdStatus the order ended with: 2 filled, 4 cancelled, 8 rejected

    def finish(self, ord_status: str) -> None:
        self.done, self.end = True, ord_status

    def ord_status(self) -> str:
        """OrdStatus (39) now: its end, else pending cancel, partly filled or new."""
        if self.order_id is None:
            return "8"
        if self.done:
            return self.end or "4"
        if self.cancel_cl_ord_id is not None:
            return "6"
        return "1" if self.cum_qty else "0"

    @property
    def cl_ord_id(self) -> str:
        return self.request.client_order_id

    @property
    def leaves(self) -> int:
        return 0 if self.done else self.request.quantity - self.cum_qty

    def exec_report(
        self,
        exec_type: str,
        ord_status: str,
        *,
        last: tuple[int, Decimal] | None = None,
        text: str | None = None,
        rej_reason: int | None = None,
    ) -> fix.Message:
        """ExecutionReport (8) for this order's current state."""
        req = self.request
        msg = new_message("8")
        msg.setField(37, str(self.order_id) if self.order_id is not None else "NONE")
        msg.setField(17, f"{self.order_id or 0}-{next(_exec_ids)}")
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
        msg.setField(14, str(self.cum_qty))
        msg.setField(151, str(self.leaves))
        avg = self.cum_value / self.cum_qty if self.cum_qty else Decimal(0)
        msg.setField(6, f"{avg.quantize(_AVG_PX):f}")
        if last is not None:
            msg.setField(32, str(last[0]))
            msg.setField(31, str(last[1]))
        if rej_reason is not None:
            msg.setField(103, str(rej_reason))
        if text:
            msg.setField(58, text)
        return msg
