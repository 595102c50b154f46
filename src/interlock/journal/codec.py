"""Journal wire format: each event is a short stable `kind` plus a msgpack body.

The kind strings are written to disk, so they are part of the file format: never rename
one, never reuse one for another type. The body is msgspec's msgpack encoding of the
event as its type declares it (positional for `array_like` Structs, so a field may only
be appended, with a default; Decimals as strings, enums by value), decoded back into the
exact type, so a record read after a restart is equal to the one appended.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Final

import msgspec

from interlock.domain.events import (
    EVENT_TYPES,
    AdvLoaded,
    Cancelled,
    CancelRequested,
    DeployAborted,
    DeployCommitted,
    DeployProposed,
    DropCopyBreak,
    Event,
    Filled,
    HaltApplied,
    HaltLifted,
    LimitsLoaded,
    LocateAdded,
    OrderDecided,
    ParentDeclared,
    ReadinessAcknowledged,
    Routed,
    VenueRejected,
)
from interlock.domain.flag_events import FlagDisabled, FlagEnabled, FlagRegistered, FlagRetired
from interlock.domain.limit_events import (
    LimitChangeApplied,
    LimitChangeApproved,
    LimitChangeDeclined,
    LimitChangeProposed,
)
from interlock.errors import RecoveryError, UnencodableEvent

KINDS: Final[dict[type[Event], str]] = {
    OrderDecided: "decided",
    Filled: "fill",
    Cancelled: "cancelled",
    VenueRejected: "venue_rejected",
    CancelRequested: "cancel_requested",
    HaltApplied: "halt",
    HaltLifted: "resume",
    ParentDeclared: "parent",
    LimitsLoaded: "limits",
    DeployProposed: "deploy_proposed",
    DeployCommitted: "deploy_committed",
    DeployAborted: "deploy_aborted",
    FlagRegistered: "flag_registered",
    FlagRetired: "flag_retired",
    FlagEnabled: "flag_enabled",
    FlagDisabled: "flag_disabled",
    Routed: "routed",
    ReadinessAcknowledged: "readiness_ack",
    LimitChangeProposed: "limit_change_proposed",
    LimitChangeApproved: "limit_change_approved",
    LimitChangeDeclined: "limit_change_declined",
    LimitChangeApplied: "limit_change_applied",
    DropCopyBreak: "drop_copy_break",
    LocateAdded: "locate",
    AdvLoaded: "adv_loaded",
}
"""Event type → kind string stored beside each record."""

if set(KINDS) != set(EVENT_TYPES) or len(set(KINDS.values())) != len(KINDS):
    raise ImportError("journal codec: KINDS must name every event type once, uniquely")


def _base_value(obj: object) -> object:
    """Subclasses of str, int or Decimal (a transport's own types) are stored as the plain
    value: a caller's exotic type must never make a record unwritable (and so fail the
    journal closed for everyone)."""
    for base in (str, int, Decimal):
        if isinstance(obj, base):
            return base(obj)
    raise NotImplementedError(f"cannot journal a value of type {type(obj).__name__}")


_ENCODER: Final = msgspec.msgpack.Encoder(enc_hook=_base_value)
_DECODERS: Final[dict[str, msgspec.msgpack.Decoder[Any]]] = {
    kind: msgspec.msgpack.Decoder(event_type) for event_type, kind in KINDS.items()
}


def encode(event: Event) -> tuple[str, bytes]:
    """Return `(kind, body)` for `event`; UnencodableEvent (a JournalError) if it cannot."""
    try:
        kind = KINDS[type(event)]
    except KeyError:
        raise UnencodableEvent(
            f"cannot journal {type(event).__name__}: not an event type"
        ) from None
    try:
        return kind, _ENCODER.encode(event)
    except (msgspec.EncodeError, TypeError, ValueError, OverflowError) as exc:
        raise UnencodableEvent(f"cannot encode {kind} event: {exc}") from exc


def decode(kind: str, body: bytes) -> Event:
    """Rebuild the event stored as `(kind, body)`; RecoveryError if it can't be read back."""
    decoder = _DECODERS.get(kind)
    if decoder is None:
        known = ", ".join(sorted(_DECODERS))
        raise RecoveryError(f"unknown journal record kind {kind!r} (known: {known})")
    try:
        event: Event = decoder.decode(body)
    except msgspec.DecodeError as exc:
        raise RecoveryError(f"corrupt {kind} record: {exc}") from exc
    return event


ORDER_EVENT_TYPES: Final = (OrderDecided, Filled, Cancelled, VenueRejected, CancelRequested, Routed)
"""The event types about one order, which the journals index by order id."""
_ORDER_KINDS: Final = frozenset(ORDER_EVENT_TYPES)


def order_id_of(event: Event) -> int | None:
    """The order an event is about, for the journal's order index (`order_history`): an
    accepted order's decision and everything that happened to it since; None for the rest
    (a refusal has no order id)."""
    if event.__class__ in _ORDER_KINDS:
        order_id: int | None = getattr(event, "order_id", None)
        return order_id
    return None
