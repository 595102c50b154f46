"""OrderStatusRequest (H) and OrderMassCancelRequest (q): the answers that are not an order.

Kept out of app.py so the acceptor reads as sessions and orders. FIX 4.4 practice: a
status request for a ClOrdID the session never used is answered with an ExecutionReport
150=I, 39=8 (OrdRejReason 5, unknown order), not with a reject of the request; a mass
cancel is always answered with one OrderMassCancelReport (r), 531=0 when it was refused.
"""

from __future__ import annotations

import itertools

import quickfix as fix

from interlock.domain.reject import RejectCode, reject
from interlock.fixengine.engine import new_message

MASS_CANCEL_TYPES = {"1": "by Symbol (55)", "7": "all orders of the session"}
"""MassCancelRequestType (530) values served; MassCancelResponse (531) echoes them."""

# MassCancelRejectReason (532), FIX 4.4 values
NOT_SUPPORTED, UNKNOWN_SECURITY, OTHER = 0, 1, 99

_report_ids = itertools.count(1)


def unknown_status(cl_ord_id: str, fields: dict[int, str]) -> fix.Message:
    """ExecutionReport 150=I, 39=8 for a ClOrdID this session does not know."""
    msg = new_message("8")
    msg.setField(37, fields.get(37) or "NONE")
    msg.setField(17, f"0-status-{next(_report_ids)}")
    msg.setField(150, "I")
    msg.setField(39, "8")
    msg.setField(11, cl_ord_id)
    for tag in (55, 54, 790):  # Symbol, Side, OrdStatusReqID: echoed when given
        if fields.get(tag):
            msg.setField(tag, fields[tag])
    msg.setField(14, "0")
    msg.setField(151, "0")
    msg.setField(6, "0")
    msg.setField(103, "5")
    text = f"unknown order: ClOrdID {cl_ord_id!r} was not used on this session"
    msg.setField(58, reject(RejectCode.ORDER_NOT_FOUND, text).message)
    return msg


def mass_cancel_report(
    cl_ord_id: str,
    fields: dict[int, str],
    *,
    affected: int = 0,
    reject_reason: int | None = None,
    text: str = "",
) -> fix.Message:
    """OrderMassCancelReport (r): 531 = the request type when done, 0 when refused (532)."""
    msg = new_message("r")
    msg.setField(11, cl_ord_id)
    msg.setField(37, f"MC-{next(_report_ids)}")
    kind = fields.get(530, "")
    msg.setField(530, kind)
    msg.setField(531, "0" if reject_reason is not None else kind)
    if reject_reason is not None:
        msg.setField(532, str(reject_reason))
    msg.setField(533, str(affected))
    for tag in (1, 55):  # Account, Symbol: echoed when given
        if fields.get(tag):
            msg.setField(tag, fields[tag])
    if text:
        msg.setField(58, text)
    return msg
