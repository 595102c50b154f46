"""Every reason Interlock refuses an order: one closed enum, one value type.

Codes are public contract (see docs/reject-codes.md): they are never renamed or reused.
A rejection's text always starts with its code, then says which limit, its value and the
attempted value, so a person reading a log line needs nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class RejectCode(StrEnum):
    """Stable machine codes, in the order the order path can produce them."""

    SCHEMA_INVALID = "SCHEMA_INVALID"
    UNKNOWN_SYMBOL = "UNKNOWN_SYMBOL"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    INSTANCE_NOT_ATTESTED = "INSTANCE_NOT_ATTESTED"
    STALE_EPOCH = "STALE_EPOCH"
    FLEET_NO_QUORUM = "FLEET_NO_QUORUM"
    CONTROL_PLANE_LOST = "CONTROL_PLANE_LOST"
    HALTED = "HALTED"
    IDEMPOTENCY_CONFLICT = "IDEMPOTENCY_CONFLICT"
    MARKET_CLOSED = "MARKET_CLOSED"
    SESSION_MISMATCH = "SESSION_MISMATCH"
    RESTRICTED_SYMBOL = "RESTRICTED_SYMBOL"
    MARKET_ORDER_NOT_ALLOWED = "MARKET_ORDER_NOT_ALLOWED"
    MAX_ORDER_QTY = "MAX_ORDER_QTY"
    MAX_ORDER_NOTIONAL = "MAX_ORDER_NOTIONAL"
    REFERENCE_PRICE_STALE = "REFERENCE_PRICE_STALE"
    PRICE_COLLAR = "PRICE_COLLAR"
    DUPLICATE_ORDER = "DUPLICATE_ORDER"
    RATE_LIMIT = "RATE_LIMIT"
    PARENT_OVERFILL = "PARENT_OVERFILL"
    POSITION_LIMIT = "POSITION_LIMIT"
    GROSS_EXPOSURE_LIMIT = "GROSS_EXPOSURE_LIMIT"
    CREDIT_LIMIT = "CREDIT_LIMIT"
    LOSS_LIMIT = "LOSS_LIMIT"


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why one order was refused.

    `limit` and `attempted` are the numbers compared (as display strings, units
    included), so the journal records exactly what the order was judged against.
    """

    code: RejectCode
    reason: str
    limit: str = ""
    attempted: str = ""

    @property
    def message(self) -> str:
        return f"{self.code.value}: {self.reason}"

    def __str__(self) -> str:
        return self.message


def reject(code: RejectCode, reason: str, limit: object = "", attempted: object = "") -> Rejection:
    """Build a rejection; numbers are rendered once, here, off the accept path."""
    return Rejection(code, reason, str(limit), str(attempted))
