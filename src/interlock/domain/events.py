"""Facts Interlock records in its journal, one frozen type per kind.

The journal holds these and nothing else; state after a restart is a fold of them through
the same `apply` the live gateway uses, so recovery never re-runs a check.
Times are integer nanoseconds since the epoch; prices integer ticks; money micros.

They are msgspec Structs rather than frozen dataclasses: just as immutable and typed, but
built in ~50 ns instead of ~800 ns, which matters because one is built per order. They
are encoded positionally (`array_like`): a field may only ever be appended, with a default.

The flag registry's changes (`flag_events.py`) are journal records too: a gateway journals
each one it observes, as it does halts and deploys. Those are tagged maps, not positional,
because the same structs are also the flag registry's file format.
"""

from __future__ import annotations

import msgspec

from interlock.domain.commands import OrderRequest, ParentOrder
from interlock.domain.enums import HaltScope
from interlock.domain.flag_events import (
    FlagDisabled,
    FlagEnabled,
    FlagRegistered,
    FlagRetired,
)
from interlock.domain.limit_events import (
    LimitChangeApplied,
    LimitChangeApproved,
    LimitChangeDeclined,
    LimitChangeProposed,
)


class OrderDecided(msgspec.Struct, frozen=True, gc=False, array_like=True):
    """A request and the decision on it, with the limits it was judged against.

    `principal` is empty when the caller could not be authenticated. For an accepted
    order `order_id` is set and `code` is empty; `price`/`value_ticks` are the decoded
    limit and valuation prices. `limits_digest` names the `LimitsLoaded` record in force.
    A request that failed schema validation is kept only as `raw` (its escaped repr),
    with `request` empty: garbage is recorded, but never as a typed order. `session` is
    the server's trading session an accepted order was judged in ("" in older journals,
    whose orders were judged in their request's label).
    """

    ts: int
    principal: str
    request: OrderRequest | None
    order_id: int | None
    price: int
    value_ticks: int
    code: str
    reason: str
    limit: str
    attempted: str
    limits_digest: str
    raw: str = ""
    session: str = ""


class Filled(msgspec.Struct, frozen=True, gc=False, array_like=True):
    ts: int
    order_id: int
    qty: int
    price: int
    exec_id: str


class Cancelled(msgspec.Struct, frozen=True, gc=False, array_like=True):
    """The venue confirmed a cancel; `qty` is what was still open and is now released."""

    ts: int
    order_id: int
    qty: int
    reason: str


class VenueRejected(msgspec.Struct, frozen=True, gc=False, array_like=True):
    ts: int
    order_id: int
    reason: str


class CancelRequested(msgspec.Struct, frozen=True, gc=False, array_like=True):
    ts: int
    order_id: int
    principal: str
    reason: str


class Routed(msgspec.Struct, frozen=True, gc=False, array_like=True):
    """The venue adapter has the order: `venue.send` returned for it. After a crash, an open
    order with no `Routed` may or may not have left (the crash can fall between the send
    and this record): the start's reconciliation with the venue decides."""

    ts: int
    order_id: int


class HaltApplied(msgspec.Struct, frozen=True, gc=False, array_like=True):
    """`halt_ts` is when the halt was written (the control plane's record); `ts` when this
    instance applied it. 0 in journals from before it was kept: `ts` stands in."""

    ts: int
    scope: HaltScope
    target: str
    reason: str
    who: str
    halt_ts: int = 0


class HaltLifted(msgspec.Struct, frozen=True, gc=False, array_like=True):
    ts: int
    scope: HaltScope
    target: str
    who: str


class ParentDeclared(msgspec.Struct, frozen=True, gc=False, array_like=True):
    ts: int
    parent: ParentOrder


class LimitsLoaded(msgspec.Struct, frozen=True, gc=False, array_like=True):
    """The limits document (canonical JSON) that later decisions cite by digest."""

    ts: int
    digest: str
    document: str


class DeployProposed(msgspec.Struct, frozen=True, gc=False, array_like=True):
    """A deploy was proposed: `members` must restart on this build and flags and attest
    before it can be committed at `base_epoch + 1`."""

    ts: int
    build_digest: str
    flag_digest: str
    members: tuple[str, ...]
    base_epoch: int
    who: str


class DeployCommitted(msgspec.Struct, frozen=True, gc=False, array_like=True):
    """The release this instance now sees: build, flags, epoch, and the members committed
    with it (empty for an operator's outright `set_release`)."""

    ts: int
    build_digest: str
    flag_digest: str
    epoch: int
    members: tuple[str, ...]
    who: str


class DeployAborted(msgspec.Struct, frozen=True, gc=False, array_like=True):
    ts: int
    build_digest: str
    flag_digest: str
    who: str
    reason: str


class ReadinessAcknowledged(msgspec.Struct, frozen=True, gc=False, array_like=True):
    """A person opened anyway: who, when, and the readiness causes they acknowledged
    (each `check: text`), with how many error-level alerts that cleared."""

    ts: int
    who: str
    causes: tuple[str, ...]
    alerts: int


class DropCopyBreak(msgspec.Struct, frozen=True, gc=False, array_like=True):
    """An execution report on the venue's drop copy that does not match what this instance
    released (gateway/drop_copy.py): `kind` foreign (no order of ours), mismatch (ours, but
    another symbol, side or account), overfill (more than the order's quantity),
    unreleased (an order of ours not yet handed to the venue) or unconfirmed (a fill our
    own session never delivered in time). What the report said, and the halt it set off
    (`scope`, `target`)."""

    ts: int
    kind: str
    exec_id: str
    cl_ord_id: str
    venue_order_id: str
    account: str
    symbol: str
    side: str
    qty: int
    detail: str
    scope: HaltScope
    target: str


class LocateAdded(msgspec.Struct, frozen=True, gc=False, array_like=True):
    """An operator's locate (Reg SHO 203(b)): `quantity` shares of `symbol` borrowable for
    `account`'s short sales until `expires_ns`, from `source`; added by `who`."""

    ts: int
    locate_id: str
    account: str
    symbol: str
    quantity: int
    expires_ns: int
    source: str
    who: str


class AdvLoaded(msgspec.Struct, frozen=True, gc=False, array_like=True):
    """The day's ADV file as loaded (limits.adv.file): its `as_of` date (ISO), its sha256
    `digest` and every `(symbol, adv_shares)` it gives, sorted. Input data: a restart folds
    these figures back, whatever the file holds by then (risk/adv_file.py)."""

    ts: int
    as_of: str
    digest: str
    figures: tuple[tuple[str, int], ...]


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
    | DeployProposed
    | DeployCommitted
    | DeployAborted
    | FlagRegistered
    | FlagRetired
    | FlagEnabled
    | FlagDisabled
    | Routed
    | ReadinessAcknowledged
    | LimitChangeProposed
    | LimitChangeApproved
    | LimitChangeDeclined
    | LimitChangeApplied
    | DropCopyBreak
    | LocateAdded
    | AdvLoaded
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
    DeployProposed,
    DeployCommitted,
    DeployAborted,
    FlagRegistered,
    FlagRetired,
    FlagEnabled,
    FlagDisabled,
    Routed,
    ReadinessAcknowledged,
    LimitChangeProposed,
    LimitChangeApproved,
    LimitChangeDeclined,
    LimitChangeApplied,
    DropCopyBreak,
    LocateAdded,
    AdvLoaded,
)
