"""Limit changes as journal records: proposed, approved, declined, applied.

A change is a set of (path, old, new) items, each value as its exact text (shares or
counts as digits, money as a decimal in currency units). The gateway decides a command
(risk/limit_paths.py validates it, gateway/limit_changes.py holds the four-eyes rules),
journals the record, and applies it; a restart folds the same records through the same
apply, so the limits in force after it are the approved ones, never re-judged.
Positional (`array_like`) like the order-path records: a field may only be appended.
"""

from __future__ import annotations

from typing import Final

import msgspec


class LimitItem(msgspec.Struct, frozen=True, array_like=True):
    """One limit in a change: its dotted path and the values before and after, as text."""

    path: str
    old: str
    new: str


class LimitChangeProposed(msgspec.Struct, frozen=True, gc=False, array_like=True):
    """A risk principal proposed a change. `raises` True: it loosens some limit and waits
    for a second risk principal until `expires_ts`; False: it applied at once."""

    ts: int
    change_id: str
    proposer: str
    items: tuple[LimitItem, ...]
    reason: str
    raises: bool
    expires_ts: int


class LimitChangeApproved(msgspec.Struct, frozen=True, gc=False, array_like=True):
    """A second risk principal (never the proposer) approved a pending raise."""

    ts: int
    change_id: str
    approver: str


class LimitChangeDeclined(msgspec.Struct, frozen=True, gc=False, array_like=True):
    """A risk principal declined a pending raise: it is closed and never applies."""

    ts: int
    change_id: str
    who: str
    reason: str


class LimitChangeApplied(msgspec.Struct, frozen=True, gc=False, array_like=True):
    """The change's new values are the limits in force from here on (`digest`: of the
    whole limits document after it, as the next `LimitsLoaded` records it)."""

    ts: int
    change_id: str
    items: tuple[LimitItem, ...]
    digest: str
    epoch: int = 0  # a fleet's change: the release epoch it was committed at (0: this one's)


class FleetLimitChange(msgspec.Struct, frozen=True, array_like=True):
    """A change the whole fleet applies, carried by a deploy proposal in the control plane:
    every expected member applies it, re-attests, and the commit releases it at epoch + 1.
    A raise is carried first with no `approver` (pending: nobody applies it), then again
    approved by a risk principal other than `proposer` (every member checks that)."""

    change_id: str
    proposer: str
    items: tuple[LimitItem, ...]
    reason: str
    raises: bool = False
    expires_ts: int = 0
    approver: str = ""

    @property
    def appliable(self) -> bool:
        """A lowering, or a raise approved by a second pair of eyes."""
        return not self.raises or self.approver not in ("", self.proposer)


LimitEvent = LimitChangeProposed | LimitChangeApproved | LimitChangeDeclined | LimitChangeApplied

LIMIT_EVENT_TYPES: Final[tuple[type[LimitEvent], ...]] = (
    LimitChangeProposed,
    LimitChangeApproved,
    LimitChangeDeclined,
    LimitChangeApplied,
)
