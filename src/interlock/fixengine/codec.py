"""FIX 4.4 tags to Interlock types and back: decoding is total, it never raises.

A message Interlock cannot turn into an `OrderRequest` becomes an `Undecodable` naming
the tag at fault, which the acceptor answers with a BusinessMessageReject (j). Anything
that does decode goes to the gateway, whose step 1 judges the values (quantity, price,
symbol) and answers with a stable reject code, so the desk sees the same codes over FIX
as over every other transport.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import quickfix as fix

from interlock.domain.commands import OrderRequest
from interlock.domain.enums import OrderType, Side, TimeInForce
from interlock.domain.reject import RejectCode, reject
from interlock.fixengine.engine import body_fields, new_message

SIDES = {"1": Side.BUY, "2": Side.SELL, "5": Side.SELL_SHORT}
SIDE_CODES = {v: k for k, v in SIDES.items()}
ORD_TYPES = {"1": OrderType.MARKET, "2": OrderType.LIMIT}
ORD_TYPE_CODES = {v: k for k, v in ORD_TYPES.items()}
TIFS = {
    "0": TimeInForce.DAY,
    "1": TimeInForce.GTC,
    "2": TimeInForce.AT_THE_OPEN,
    "3": TimeInForce.IOC,
    "4": TimeInForce.FOK,
}
TIF_CODES = {v: k for k, v in TIFS.items()}

# OrdRejReason (103), FIX 4.4 values; the exact reason is always the code in Text (58).
_LIMIT, _CLOSED, _OTHER = 3, 2, 99
ORD_REJ_REASON: dict[RejectCode, int] = {
    RejectCode.UNKNOWN_SYMBOL: 1,
    RejectCode.MARKET_CLOSED: _CLOSED,
    RejectCode.SESSION_MISMATCH: _OTHER,
    RejectCode.HALTED: _CLOSED,
    RejectCode.INSTANCE_NOT_ATTESTED: _CLOSED,
    RejectCode.STALE_EPOCH: _CLOSED,
    RejectCode.FLEET_NO_QUORUM: _CLOSED,
    RejectCode.CONTROL_PLANE_LOST: _CLOSED,
    RejectCode.VENUE_RECONCILING: _CLOSED,
    RejectCode.NOT_READY: _CLOSED,
    RejectCode.DUPLICATE_ORDER: 6,
    RejectCode.IDEMPOTENCY_CONFLICT: 6,
    RejectCode.UNAUTHENTICATED: 15,
    RejectCode.CREDENTIAL_EXPIRED: 15,
    RejectCode.CREDENTIAL_REVOKED: 15,
    RejectCode.MARKET_ORDER_NOT_ALLOWED: 11,
    RejectCode.REFERENCE_PRICE_STALE: 8,
    RejectCode.MAX_ORDER_QTY: _LIMIT,
    RejectCode.MAX_ORDER_NOTIONAL: _LIMIT,
    RejectCode.PRICE_COLLAR: _LIMIT,
    RejectCode.RATE_LIMIT: _LIMIT,
    RejectCode.PARENT_OVERFILL: _LIMIT,
    RejectCode.POSITION_LIMIT: _LIMIT,
    RejectCode.GROSS_EXPOSURE_LIMIT: _LIMIT,
    RejectCode.CREDIT_LIMIT: _LIMIT,
    RejectCode.LOSS_LIMIT: _LIMIT,
    RejectCode.SHORT_MARKING: _OTHER,  # FIX 4.4 has no reason for a sale's marking
    RejectCode.NO_LOCATE: _OTHER,
    RejectCode.ADV_LIMIT: _LIMIT,
    RejectCode.SELF_TRADE: _OTHER,
    RejectCode.MESSAGE_RATE: _LIMIT,
    RejectCode.ORDER_TO_TRADE_RATIO: _LIMIT,
}


def ord_rej_reason(code: RejectCode) -> int:
    return ORD_REJ_REASON.get(code, _OTHER)


@dataclass(frozen=True, slots=True)
class Undecodable:
    """Why a message could not be decoded: the tag at fault (0: none) and its Text (58),
    `SCHEMA_INVALID: sentence`."""

    tag: int
    text: str

    @classmethod
    def of(cls, tag: int, reason: str) -> Undecodable:
        return cls(tag, reject(RejectCode.SCHEMA_INVALID, reason).message)


_MAX_QTY_DIGITS = 18  # OrderQty's largest power of ten decoded; the gateway's cap is far lower
TAG_NAMES = {1: "Account", 11: "ClOrdID", 37: "OrderID", 41: "OrigClOrdID", 54: "Side",
             55: "Symbol", 530: "MassCancelRequestType", 790: "OrdStatusReqID"}  # fmt: skip


def unprintable(msg: dict[int, str], tags: tuple[int, ...]) -> Undecodable | None:
    """The first of `tags` whose value has a control character ("\x1b[2J", "\n", DEL, C1)
    or bytes that are not UTF-8 (QuickFIX hands them over as lone surrogates, which no
    reply can carry back: echoing one made setField raise). Checked before a value is
    used or echoed, so a desk's terminal and our replies only ever see printable text."""
    for tag in tags:
        text = msg.get(tag)
        if text is not None and not text.isprintable():
            name = TAG_NAMES.get(tag, "field")
            shown = ascii(text)[:80]
            reason = f"{name} ({tag}) has a control character or bytes not UTF-8: {shown}"
            return Undecodable.of(tag, reason)
    return None


def _require(msg: dict[int, str], tag: int, name: str) -> str | Undecodable:
    value = msg.get(tag)
    if value is None or value == "":
        return Undecodable.of(tag, f"required field {name} ({tag}) is missing")
    return value


def decode_new(
    message: fix.Message, account: str, strategy: str, scope: str
) -> OrderRequest | Undecodable:
    """NewOrderSingle (or the new half of a replace) to an OrderRequest.

    Account (1) overrides the session's default account; the strategy is the session's.
    The idempotency key is `scope/ClOrdID`: the same ClOrdID on two sessions is two keys.
    """
    msg = body_fields(message)
    values: list[str] = []
    for tag, name in ((11, "ClOrdID"), (55, "Symbol"), (54, "Side"), (38, "OrderQty")):
        value = _require(msg, tag, name)
        if isinstance(value, Undecodable):
            return value
        values.append(value)
    cl_ord_id, symbol, side_code, qty_text = values
    bad = unprintable(msg, (11, 41, 55, 1))
    if bad is not None:
        return bad
    side = SIDES.get(side_code)
    if side is None:
        return Undecodable.of(54, f"Side (54) {side_code!r} is not one of 1, 2, 5")
    ord_type = ORD_TYPES.get(msg.get(40) or "2")
    if ord_type is None:
        return Undecodable.of(40, f"OrdType (40) {msg.get(40)!r} is not 1 or 2")
    tif = TIFS.get(msg.get(59) or "0")
    if tif is None:
        return Undecodable.of(59, f"TimeInForce (59) {msg.get(59)!r} is not one of 0-4")
    try:
        qty_dec = Decimal(qty_text)
        price_text = msg.get(44)
        price = None if price_text is None else Decimal(price_text)
    except InvalidOperation:
        return Undecodable.of(38, "OrderQty (38) or Price (44) is not a number")
    if not qty_dec.is_finite() or qty_dec.adjusted() > _MAX_QTY_DIGITS:  # int() of 1E+999999999
        shown = ascii(qty_text)[:40]  # would build a billion-digit int: the acceptor stalls
        return Undecodable.of(38, f"OrderQty (38) {shown} is not a finite number up to 10^18")
    if qty_dec != qty_dec.to_integral_value():
        return Undecodable.of(38, f"OrderQty (38) {qty_text!r} is not a whole number of shares")
    return OrderRequest(
        client_order_id=cl_ord_id,
        account=msg.get(1) or account,
        strategy=strategy,
        symbol=symbol,
        side=side,
        quantity=int(qty_dec),
        order_type=ord_type,
        limit_price=price if ord_type is OrderType.LIMIT else None,
        time_in_force=tif,
        idempotency_key=f"{scope}/{cl_ord_id}",
    )


def business_reject(ref: fix.Message | None, ref_type: str, ref_tag: int, text: str) -> fix.Message:
    """BusinessMessageReject (j): 380=3 unsupported type, 5 conditional field missing."""
    out = new_message("j")
    out.setField(fix.RefMsgType(ref_type))
    reason = 3 if ref_tag == 35 else 5 if "missing" in text else 0
    out.setField(fix.BusinessRejectReason(reason))
    if ref is not None and ref.getHeader().isSetField(34):
        out.setField(45, ref.getHeader().getField(34))
    if ref_tag:
        out.setField(371, str(ref_tag))
    out.setField(fix.Text(text))
    return out


def cancel_reject(
    cl_ord_id: str, orig: str, order_id: str, replace: bool, text: str
) -> fix.Message:
    """OrderCancelReject (9): the original order stands unchanged."""
    out = new_message("9")
    out.setField(11, cl_ord_id)
    out.setField(41, orig)
    out.setField(37, order_id or "NONE")
    out.setField(39, "8" if order_id == "" else "0")
    out.setField(434, "2" if replace else "1")
    out.setField(102, "1" if order_id == "" else "99")
    out.setField(fix.Text(text))
    return out
