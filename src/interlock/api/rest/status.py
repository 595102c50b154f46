"""The HTTP status of every reject code: a closed, stable map (public contract).

Why these groups: a client's retry logic keys on the status before it reads the code.
422 the order itself is malformed (fix the request); 403 the caller or the risk limits
refuse it (do not retry as is); 409 it collides with an earlier order or key; 429 slow
down; 423 trading is locked (halted or fenced instance: retry only after an operator acts;
market closed: retry once the calendar's next session opens).
docs/rest-api.md lists the map; tests/api/test_rest_doc.py keeps the two in step.
"""

from __future__ import annotations

from types import MappingProxyType

from interlock.domain.reject import RejectCode as C

_GROUPS: dict[int, tuple[C, ...]] = {
    422: (C.SCHEMA_INVALID, C.UNKNOWN_SYMBOL, C.SESSION_MISMATCH),
    403: (
        C.UNAUTHENTICATED,
        C.CREDENTIAL_EXPIRED,  # a session or caller whose key expired since it logged on
        C.CREDENTIAL_REVOKED,
        C.RESTRICTED_SYMBOL,
        C.MARKET_ORDER_NOT_ALLOWED,
        C.MAX_ORDER_QTY,
        C.MAX_ORDER_NOTIONAL,
        C.REFERENCE_PRICE_STALE,
        C.PRICE_COLLAR,
        C.PARENT_OVERFILL,
        C.POSITION_LIMIT,
        C.GROSS_EXPOSURE_LIMIT,
        C.CREDIT_LIMIT,
        C.LOSS_LIMIT,
        C.SHORT_MARKING,
        C.NO_LOCATE,
        C.ADV_LIMIT,
        C.ORDER_TO_TRADE_RATIO,
    ),
    409: (C.IDEMPOTENCY_CONFLICT, C.DUPLICATE_ORDER, C.SELF_TRADE),
    429: (C.RATE_LIMIT, C.MESSAGE_RATE),
    423: (
        C.HALTED,
        C.INSTANCE_NOT_ATTESTED,
        C.STALE_EPOCH,
        C.FLEET_NO_QUORUM,
        C.CONTROL_PLANE_LOST,
        C.VENUE_RECONCILING,
        C.NOT_READY,
        C.MARKET_CLOSED,
    ),
    503: (C.JOURNAL_UNAVAILABLE,),  # nothing can be made durable now: retry later, same key
}

STATUS_BY_CODE: MappingProxyType[C, int] = MappingProxyType(
    {code: status for status, codes in _GROUPS.items() for code in codes}
)
"""Every order-path code's (ORDER_CODES) HTTP status for POST /orders."""

COMMAND_STATUS: MappingProxyType[C, int] = MappingProxyType(
    {
        C.ORDER_NOT_FOUND: 404,  # unknown, or another account's: the same answer
        C.ORDER_NOT_OPEN: 409,  # it was, it is no longer: collides with its own end
        C.NOT_ACCOUNT_OWNER: 403,
        C.PARENT_CONFLICT: 409,
        C.LIMIT_CHANGE_NOT_FOUND: 404,  # unknown, already closed, or expired
        C.FOUR_EYES_REQUIRED: 403,  # the proposer approving their own raise
        C.LIMIT_CHANGE_STALE: 409,  # another change landed under it
        C.LIMIT_CHANGE_FLEET: 409,  # the fleet could not take it (another proposal pending)
        C.LOCATE_CONFLICT: 409,  # admin POST /locates: the id names another locate
    }
)
"""Every command code's (COMMAND_CODES) HTTP status: cancels and order lookups."""


def status_of(code: C) -> int:
    """The status of an order-path or command code (a KeyError for any other: a bug)."""
    status = COMMAND_STATUS.get(code)
    return STATUS_BY_CODE[code] if status is None else status
