"""Facts Interlock records in its journal, one frozen type per kind.

The journal holds these and nothing else; state after a restart is a fold of them through
the same `apply` the live gateway uses, so recovery never re-runs a check.
Times are integer nanoseconds since the epoch; prices integer ticks; money micros.
"""

from __future__ import annotations

from dataclasses import dataclass

from interlock.domain.commands import OrderRequest, ParentOrder
from interlock.domain.enums import HaltScope


@dataclass(frozen=True, slots=True)
class OrderDecided:
    """A request and the decision on it, with the limits it was judged against.

    `principal` is empty when the caller could not be authenticated. For an accepted
    order `order_id` is set and `code` is empty; `price`/`value_ticks` are the decoded
    limit and valuation prices. `limits_digest` names the `LimitsLoaded` record in force.
    """

    ts: int
    principal: str
    request: OrderRequest
    order_id: int | None
    price: int
    value_ticks: int
    code: str
    reason: str
    limit: str
    attempted: str
    limits_digest: str


@dataclass(frozen=True, slots=True)
class Filled:
    ts: int
    order_id: int
    qty: int
    price: int
    exec_id: str


@dataclass(frozen=True, slots=True)
class Cancelled:
    """The venue confirmed a cancel; `qty` is what was still open and is now released."""

    ts: int
    order_id: int
    qty: int
    reason: str


@dataclass(frozen=True, slots=True)
class VenueRejected:
    ts: int
    order_id: int
    reason: str


@dataclass(frozen=True, slots=True)
class CancelRequested:
    ts: int
    order_id: int
    principal: str
    reason: str


@dataclass(frozen=True, slots=True)
class HaltApplied:
    ts: int
    scope: HaltScope
    target: str
    reason: str
    who: str


@dataclass(frozen=True, slots=True)
class HaltLifted:
    ts: int
    scope: HaltScope
    target: str
    who: str


@dataclass(frozen=True, slots=True)
class ParentDeclared:
    ts: int
    parent: ParentOrder


@dataclass(frozen=True, slots=True)
class LimitsLoaded:
    """The limits document (canonical JSON) that later decisions cite by digest."""

    ts: int
    digest: str
    document: str


Event = (
    OrderDecided
    | Filled
    | Cancelled
    | VenueRejected
    | CancelRequested
    | HaltApplied
    | HaltLifted
    | ParentDeclared
    | LimitsLoaded
)

EVENT_TYPES: tuple[type[Event], ...] = (
    OrderDecided,
    Filled,
    Cancelled,
    VenueRejected,
    CancelRequested,
    HaltApplied,
    HaltLifted,
    ParentDeclared,
    LimitsLoaded,
)
