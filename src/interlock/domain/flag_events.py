"""Every change to the flag registry, as a frozen fact; the registry is their fold.

The registry (`interlock.flags`) decides a change against its rules and then applies the
event it decided; a registry loaded from disk, or rebuilt from the control plane, folds the
same events through the same `apply`, so replay never re-runs a check and no history is
lost: a retired flag stays in the history forever, which is what makes its name and id
unusable again.

They live in `domain` (not in `flags`) because they are also journal records: every
gateway journals the flag changes it observes, and the journal knows only domain types.
Unlike the order-path records they are tagged maps (`kind` is the tag, a stable string,
part of the registry file format: never rename one), because the same structs are the
registry's JSON file and the control plane's history. Times are integer ns since the epoch.
"""

from __future__ import annotations

from typing import Final

import msgspec


class FlagRegistered(msgspec.Struct, frozen=True, tag="flag_registered", tag_field="kind"):
    """A flag's permanent identity was created: name, id and meaning are bound for good."""

    ts: int
    name: str
    flag_id: int
    meaning: str
    owner: str


class FlagRetired(msgspec.Struct, frozen=True, tag="flag_retired", tag_field="kind"):
    """A flag became a tombstone: never enabled, read or reused again."""

    ts: int
    name: str
    who: str


class FlagEnabled(msgspec.Struct, frozen=True, tag="flag_enabled", tag_field="kind"):
    """A flag was switched on after every member in `members` declared its id."""

    ts: int
    name: str
    flag_id: int
    who: str
    members: tuple[str, ...]


class FlagDisabled(msgspec.Struct, frozen=True, tag="flag_disabled", tag_field="kind"):
    ts: int
    name: str
    who: str


FlagEvent = FlagRegistered | FlagRetired | FlagEnabled | FlagDisabled

FLAG_EVENT_TYPES: Final[tuple[type[FlagEvent], ...]] = (
    FlagRegistered,
    FlagRetired,
    FlagEnabled,
    FlagDisabled,
)
