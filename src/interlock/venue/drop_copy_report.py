"""One ExecutionReport as the venue's drop copy tells it, decoded from its FIX fields.

Kept apart from the QuickFIX session (drop_copy.py) so the gateway's matcher and its tests
need no FIX engine: the session hands over plain fields, `decode_report` makes them this.
Quantities are whole shares, as the order path's; a field that does not decode is kept
as absent (None or ""), never guessed, and the matcher treats what it cannot read as
unattributable.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from interlock.domain.enums import Side

FIX_SIDE = {Side.BUY: "1", Side.SELL: "2", Side.SELL_SHORT: "5"}
"""Side (54) as the venue writes it for each of our sides (fixengine/codec.py's SIDES,
kept here so the matcher needs no FIX engine)."""


@dataclass(frozen=True, slots=True)
class DropCopyReport:
    exec_id: str  # 17
    exec_type: str  # 150
    cl_ord_id: str  # 11
    orig_cl_ord_id: str  # 41 (a cancel's report names the order here)
    venue_order_id: str  # 37
    account: str  # 1 ("" when absent)
    symbol: str  # 55
    side: str  # 54, the FIX code
    order_qty: int | None  # 38
    last_qty: int  # 32 (0 unless a trade)
    cum_qty: int | None  # 14
    poss_dup: bool  # 43=Y or 97=Y: a copy that may have been sent before

    @property
    def is_trade(self) -> bool:
        """An execution (FIX 4.4 ExecType F; 1 and 2 of older versions), not an ack."""
        return self.exec_type in ("F", "1", "2") and self.last_qty > 0

    def dedup_key(self) -> str:
        """What makes a copy the same report again: the venue's ExecID, or, without one,
        the fields that tell one report of an order from the next."""
        if self.exec_id:
            return self.exec_id
        return f"{self.cl_ord_id}|{self.venue_order_id}|{self.exec_type}|{self.cum_qty}"


def _qty(text: str | None) -> int | None:
    if text is None or text == "":
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    if not value.is_finite() or value != value.to_integral_value():
        return None
    return int(value)


def decode_report(fields: dict[int, str]) -> DropCopyReport:
    """An ExecutionReport from its `fields`, header included (PossDup 43, PossResend 97)."""
    dup = fields.get(43) == "Y" or fields.get(97) == "Y"
    return DropCopyReport(
        exec_id=fields.get(17, ""),
        exec_type=fields.get(150, ""),
        cl_ord_id=fields.get(11, ""),
        orig_cl_ord_id=fields.get(41, ""),
        venue_order_id=fields.get(37, ""),
        account=fields.get(1, ""),
        symbol=fields.get(55, ""),
        side=fields.get(54, ""),
        order_qty=_qty(fields.get(38)),
        last_qty=_qty(fields.get(32)) or 0,
        cum_qty=_qty(fields.get(14)),
        poss_dup=dup,
    )
