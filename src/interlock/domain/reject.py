"""Every machine code Interlock answers with: one closed enum, one value type.

Codes are public contract (see docs/reject-codes.md): they are never renamed or reused.
The enum is grouped, in this order, so a reader sees at once who can emit a code:

    ORDER_CODES     the order path's decisions (Gateway.submit), journaled
    COMMAND_CODES   refusals of the other commands: cancel, mass cancel, declare parent,
                    limit changes (propose, approve, decline)
    EDGE_CODES      a transport's own answers (REST, admin, FIX) that reach no gateway command
    FAULT_CODES     the `code` of every fault in errors.py, as the CLI shows it

A rejection's text always starts with its code, then says which limit, its value and the
attempted value, so a person reading a log line needs nothing else. `limit` and
`attempted` stay typed (shares, ticks or micros as int, a price as Decimal, or text)
until `render` turns them into the text the journal, REST and FIX show.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

Value = int | Decimal | str
"""A limit or attempted value as a check compared it; `render` gives its text."""


class RejectCode(StrEnum):
    """Stable machine codes, grouped (see the module docstring), each group in the order
    its producer can emit them."""

    # -- the order path (ORDER_CODES) ------------------------------------------------
    SCHEMA_INVALID = "SCHEMA_INVALID"
    UNKNOWN_SYMBOL = "UNKNOWN_SYMBOL"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    CREDENTIAL_EXPIRED = "CREDENTIAL_EXPIRED"
    CREDENTIAL_REVOKED = "CREDENTIAL_REVOKED"
    INSTANCE_NOT_ATTESTED = "INSTANCE_NOT_ATTESTED"
    STALE_EPOCH = "STALE_EPOCH"
    FLEET_NO_QUORUM = "FLEET_NO_QUORUM"
    CONTROL_PLANE_LOST = "CONTROL_PLANE_LOST"
    VENUE_RECONCILING = "VENUE_RECONCILING"
    HALTED = "HALTED"
    NOT_READY = "NOT_READY"
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
    SHORT_MARKING = "SHORT_MARKING"
    NO_LOCATE = "NO_LOCATE"
    ADV_LIMIT = "ADV_LIMIT"
    SELF_TRADE = "SELF_TRADE"
    MESSAGE_RATE = "MESSAGE_RATE"
    ORDER_TO_TRADE_RATIO = "ORDER_TO_TRADE_RATIO"
    JOURNAL_UNAVAILABLE = "JOURNAL_UNAVAILABLE"
    # -- cancel, mass cancel, declare parent, limit changes (COMMAND_CODES) ----------
    ORDER_NOT_FOUND = "ORDER_NOT_FOUND"
    ORDER_NOT_OPEN = "ORDER_NOT_OPEN"
    NOT_ACCOUNT_OWNER = "NOT_ACCOUNT_OWNER"
    PARENT_CONFLICT = "PARENT_CONFLICT"
    LIMIT_CHANGE_NOT_FOUND = "LIMIT_CHANGE_NOT_FOUND"
    FOUR_EYES_REQUIRED = "FOUR_EYES_REQUIRED"
    LIMIT_CHANGE_STALE = "LIMIT_CHANGE_STALE"
    LIMIT_CHANGE_FLEET = "LIMIT_CHANGE_FLEET"
    LOCATE_CONFLICT = "LOCATE_CONFLICT"
    # -- a transport's own answers (EDGE_CODES) --------------------------------------
    NOT_FOUND = "NOT_FOUND"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    BODY_TOO_LARGE = "BODY_TOO_LARGE"
    HTTP_ERROR = "HTTP_ERROR"
    NOT_SUPPORTED = "NOT_SUPPORTED"
    INTERNAL_ERROR = "INTERNAL_ERROR"
    # -- faults, errors.py (FAULT_CODES) ---------------------------------------------
    INTERLOCK_ERROR = "INTERLOCK_ERROR"
    CONFIG_INVALID = "CONFIG_INVALID"
    TLS_INVALID = "TLS_INVALID"
    JOURNAL_ERROR = "JOURNAL_ERROR"
    JOURNAL_RECOVERY_FAILED = "JOURNAL_RECOVERY_FAILED"
    CONTROL_PLANE_ERROR = "CONTROL_PLANE_ERROR"
    FLAG_REFUSED = "FLAG_REFUSED"
    DEPLOY_REFUSED = "DEPLOY_REFUSED"
    VENUE_ERROR = "VENUE_ERROR"


def _span(first: RejectCode, last: RejectCode) -> tuple[RejectCode, ...]:
    members = list(RejectCode)
    return tuple(members[members.index(first) : members.index(last) + 1])


ORDER_CODES = _span(RejectCode.SCHEMA_INVALID, RejectCode.JOURNAL_UNAVAILABLE)
"""What `Gateway.submit` can decide: journaled with the order, each with an HTTP status."""
COMMAND_CODES = _span(RejectCode.ORDER_NOT_FOUND, RejectCode.LOCATE_CONFLICT)
"""Refusals of cancel, mass cancel, declare parent, limit changes and add locate, beside the
order path's SCHEMA_INVALID (a malformed command) and UNAUTHENTICATED (an unknown key)."""
EDGE_CODES = _span(RejectCode.NOT_FOUND, RejectCode.INTERNAL_ERROR)
"""A transport's own answers: no gateway command was judged."""
FAULT_CODES = _span(RejectCode.INTERLOCK_ERROR, RejectCode.VENUE_ERROR)
"""The `code` of each fault class in errors.py."""
GROUPS: tuple[tuple[str, tuple[RejectCode, ...]], ...] = (
    ("Order path", ORDER_CODES),
    ("Commands", COMMAND_CODES),
    ("Edges", EDGE_CODES),
    ("Faults", FAULT_CODES),
)
"""Each group's heading in docs/reject-codes.md, and its codes."""


def render(value: Value) -> str:
    """The one text of a limit or attempted value, for the journal, REST and FIX alike.

    Plain `str`: an int shows its digits, a Decimal its exact digits, text itself. It is
    the text the journal has always held, so journals written before read the same.
    """
    return str(value)


@dataclass(frozen=True, slots=True, eq=False)
class Rejection:
    """Why one order or command was refused.

    `limit` and `attempted` are the values compared, kept as the check had them (no
    formatting on the hot path); `render` them to show them. Two rejections are equal when
    they read the same: a live one (an int 10000) equals the one recovered from its
    journal record ("10000"), so a replayed decision is the same decision.
    """

    code: RejectCode
    reason: str
    limit: Value = ""
    attempted: Value = ""

    @property
    def message(self) -> str:
        return f"{self.code.value}: {self.reason}"

    def _shown(self) -> tuple[RejectCode, str, str, str]:
        return self.code, self.reason, render(self.limit), render(self.attempted)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Rejection):
            return NotImplemented
        return self._shown() == other._shown()

    def __hash__(self) -> int:
        return hash(self._shown())

    def __str__(self) -> str:
        return self.message


def reject(code: RejectCode, reason: str, limit: Value = "", attempted: Value = "") -> Rejection:
    """Build a rejection; the values are kept as they are, rendered only when shown."""
    return Rejection(code, reason, limit, attempted)
