"""Every change to the flag registry, as a frozen fact; the registry is their fold.

The types are defined in `interlock.domain.flag_events` (they are journal records too, and
the journal knows only domain types); this module is their name inside the flags package.
The registry decides a change against its rules, then applies the event it decided; a
registry loaded from disk, or rebuilt from history, folds the same events through the same
`apply`, so replay never re-runs a check and a tombstone is never lost.
"""

from __future__ import annotations

from interlock.domain.flag_events import (
    FLAG_EVENT_TYPES,
    FlagDisabled,
    FlagEnabled,
    FlagEvent,
    FlagRegistered,
    FlagRetired,
)

__all__ = [
    "FLAG_EVENT_TYPES",
    "FlagDisabled",
    "FlagEnabled",
    "FlagEvent",
    "FlagRegistered",
    "FlagRetired",
]
