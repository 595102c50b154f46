"""The flag registry: permanent flag identities, tombstones and the enable preflight.

Knight's router reused the flag of a dead algorithm for new code; the one server that kept
the old binary read the flag under its old meaning and woke Power Peg. So here a flag is an
identity (name, id, meaning) that never changes: a name or id is never bound twice, and
retiring a flag leaves a tombstone rather than freeing its name. Switching a flag on is
refused unless every live member's manifest declares that very id under that very name,
so no instance can read a flag under a meaning the operator did not intend (DESIGN.md
invariant 6). Retiring a flag is refused while any live member's manifest still reads it
(by its name or its id), naming them: a tombstone never strands a running build. Every
change is an event in `history`, folded through one `_apply`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from interlock.domain.flag_events import (
    FlagDisabled,
    FlagEnabled,
    FlagEvent,
    FlagRegistered,
    FlagRetired,
)
from interlock.errors import FlagError

if TYPE_CHECKING:
    from interlock.flags.manifest import FlagManifest

_NAME = re.compile(r"[a-z][a-z0-9_]*(?:[.-][a-z0-9_]+)*")
NAME_RULE = "lower-case letters, digits and _ . - , starting with a letter"


def format_ts(ns: int) -> str:
    """An event time as ISO 8601 UTC to the second, for messages and tables."""
    return datetime.fromtimestamp(ns / 1e9, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True, slots=True)
class Flag:
    """One flag: its permanent identity, then its state (enabled; retired when and by whom)."""

    name: str
    flag_id: int
    meaning: str
    owner: str
    created: int
    enabled: bool = False
    retired_at: int | None = None
    retired_by: str | None = None

    @property
    def retired(self) -> bool:
        return self.retired_at is not None

    def describe(self) -> str:
        """`'rlp' (id 8: Retail Liquidity Program)`, with `, retired` for a tombstone."""
        state = ", retired" if self.retired else ""
        return f"{self.name!r} (id {self.flag_id}: {self.meaning}{state})"


class FlagRegistry:
    """All flags ever registered, by name and by id. Changes are refused with `FlagError`."""

    def __init__(self, clock: Callable[[], int] = time.time_ns) -> None:
        self._clock = clock
        self._flags: dict[str, Flag] = {}
        self._names_by_id: dict[int, str] = {}
        self._history: list[FlagEvent] = []

    @classmethod
    def from_history(
        cls, events: Iterable[FlagEvent], clock: Callable[[], int] = time.time_ns
    ) -> FlagRegistry:
        """Rebuild a registry by folding its events; FlagError if they contradict each other."""
        registry = cls(clock)
        for event in events:
            registry._record(event)
        return registry

    # -- queries --------------------------------------------------------------------------

    @property
    def history(self) -> tuple[FlagEvent, ...]:
        """Every change in order, tombstones included: what the store and journal keep."""
        return tuple(self._history)

    def get(self, name: str) -> Flag | None:
        return self._flags.get(name)

    def by_id(self, flag_id: int) -> Flag | None:
        name = self._names_by_id.get(flag_id)
        return None if name is None else self._flags[name]

    def flags(self) -> tuple[Flag, ...]:
        """Every flag, retired ones included, by id."""
        return tuple(sorted(self._flags.values(), key=lambda f: f.flag_id))

    def enabled_ids(self) -> frozenset[int]:
        """The ids that are on: what the control plane tells instances."""
        return frozenset(f.flag_id for f in self._flags.values() if f.enabled)

    # -- changes --------------------------------------------------------------------------

    def register(self, name: str, flag_id: int, meaning: str, owner: str) -> Flag:
        """Bind `name` to `flag_id` and `meaning` for good; the same identity again is a no-op."""
        _require_text("meaning", meaning, name)
        _require_text("owner", owner, name)
        if not _NAME.fullmatch(name):
            raise FlagError(f"cannot register {name!r}: a flag name is {NAME_RULE}")
        if isinstance(flag_id, bool) or not isinstance(flag_id, int) or flag_id < 1:
            raise FlagError(f"cannot register {name!r}: id {flag_id!r} is not a positive integer")
        existing = self._flags.get(name)
        if existing is not None:
            return self._same_identity(existing, flag_id, meaning, owner)
        holder = self.by_id(flag_id)
        if holder is not None:
            raise FlagError(
                f"cannot register {name!r} as id {flag_id}: id {flag_id} already belongs to "
                f"{holder.describe()}; flag ids are never reused"
            )
        event = FlagRegistered(self._clock(), name, flag_id, meaning, owner)
        self._record(event)
        return self._flags[name]

    def readers(self, name: str, live_manifests: Mapping[str, FlagManifest]) -> dict[str, str]:
        """The members whose manifest reads flag `name`, by its name or by its id, each with
        how (`"'power_peg' as id 1"`); empty if none does or the registry has no such flag."""
        flag = self._flags.get(name)
        if flag is None:
            return {}
        found: dict[str, str] = {}
        for member in sorted(live_manifests):
            reads = live_manifests[member].reads
            how = [f"{other!r} as id {i}" for other, i in reads.items()
                   if other == flag.name or i == flag.flag_id]  # fmt: skip
            if how:
                found[member] = ", ".join(how)
        return found

    def retire(self, name: str, live_manifests: Mapping[str, FlagManifest], who: str) -> Flag:
        """Leave a tombstone: the flag can never be enabled, read by a joining build or reused.

        Refused while it is enabled, or while a member in `live_manifests` (every member whose
        lease is fresh, attested or not) reads it by its name or its id: retire a flag once
        the builds that read it have gone. An offline registry file passes `{}`."""
        flag = self._require(name, "retire")
        _require_text("who", who, name)
        if flag.retired:
            return flag
        if flag.enabled:
            raise FlagError(
                f"cannot retire {flag.describe()}: it is enabled; disable it first, so no "
                "member is left running code under a flag that no longer exists"
            )
        readers = self.readers(name, live_manifests)
        if readers:
            raise FlagError(
                f"cannot retire {flag.describe()}: {len(readers)} live member(s) still read it: "
                + _grouped(readers)
                + "; retire it once no live member's build reads it"
            )
        self._record(FlagRetired(self._clock(), name, who))
        return self._flags[name]

    def enable(self, name: str, live_manifests: Mapping[str, FlagManifest], who: str) -> Flag:
        """Switch a flag on, only if every live member declares exactly its id for its name."""
        flag = self._require(name, "enable")
        _require_text("who", who, name)
        if flag.retired:
            raise FlagError(
                f"cannot enable {flag.describe()}: it was retired by {flag.retired_by} at "
                f"{format_ts(flag.retired_at or 0)}; a retired flag is never enabled again"
            )
        if not live_manifests:
            raise FlagError(
                f"cannot enable {flag.describe()}: no live member manifests were given, so "
                "nothing shows the fleet reads this id under this name"
            )
        problems = [
            problem
            for member in sorted(live_manifests)
            for problem in self._disagreements(flag, member, live_manifests[member].reads)
        ]
        if problems:
            raise FlagError(f"cannot enable {flag.describe()}: " + "; ".join(problems))
        if not flag.enabled:
            members = tuple(sorted(live_manifests))
            self._record(FlagEnabled(self._clock(), name, flag.flag_id, who, members))
        return self._flags[name]

    def disable(self, name: str, who: str) -> Flag:
        """Switch a flag off. Always allowed: off is the safe direction."""
        flag = self._require(name, "disable")
        _require_text("who", who, name)
        if flag.enabled:
            self._record(FlagDisabled(self._clock(), name, who))
        return self._flags[name]

    # -- rules ----------------------------------------------------------------------------

    def _same_identity(self, flag: Flag, flag_id: int, meaning: str, owner: str) -> Flag:
        if flag.retired:
            raise FlagError(
                f"cannot register {flag.name!r}: it is the tombstone of {flag.describe()}, "
                f"retired by {flag.retired_by} at {format_ts(flag.retired_at or 0)}; "
                "a retired name is never reused: choose a new name"
            )
        if (flag.flag_id, flag.meaning, flag.owner) != (flag_id, meaning, owner):
            raise FlagError(
                f"cannot register {flag.name!r} as id {flag_id} ({meaning}, owner {owner}): it "
                f"is already {flag.describe()}, owner {flag.owner}; a flag's identity never "
                "changes: register a new name"
            )
        return flag

    def _disagreements(self, flag: Flag, member: str, reads: Mapping[str, int]) -> list[str]:
        problems: list[str] = []
        declared = reads.get(flag.name)
        if declared is None:
            problems.append(f"{member} does not declare {flag.name!r}")
        elif declared != flag.flag_id:
            holder = self.by_id(declared)
            known = holder.name if holder is not None else "unknown id"
            problems.append(f"{member} maps {flag.name!r} to id {declared} ({known})")
        for other, flag_id in sorted(reads.items()):
            if flag_id == flag.flag_id and other != flag.name:
                problems.append(
                    f"{member} maps {other!r} to id {flag.flag_id}, which is {flag.name!r}"
                )
        return problems

    def _require(self, name: str, action: str) -> Flag:
        flag = self._flags.get(name)
        if flag is None:
            raise FlagError(f"cannot {action} {name!r}: no such flag in the registry")
        return flag

    # -- fold -----------------------------------------------------------------------------

    def _record(self, event: FlagEvent) -> None:
        self._apply(event)
        self._history.append(event)

    def _apply(self, event: FlagEvent) -> None:
        """Fold one event into the state; FlagError if it contradicts the events before it."""
        if isinstance(event, FlagRegistered):
            if event.name in self._flags or event.flag_id in self._names_by_id:
                raise FlagError(
                    f"inconsistent flag history: {event.name!r} or id {event.flag_id} "
                    "registered twice"
                )
            self._flags[event.name] = Flag(
                event.name, event.flag_id, event.meaning, event.owner, event.ts
            )
            self._names_by_id[event.flag_id] = event.name
            return
        flag = self._flags.get(event.name)
        if flag is None or flag.retired:
            raise FlagError(
                f"inconsistent flag history: {type(event).__name__} for {event.name!r}, "
                "which is not an active flag"
            )
        if isinstance(event, FlagRetired):
            if flag.enabled:
                raise FlagError(f"inconsistent flag history: {event.name!r} retired while on")
            flag = replace(flag, retired_at=event.ts, retired_by=event.who)
        elif isinstance(event, FlagEnabled):
            if event.flag_id != flag.flag_id:
                raise FlagError(
                    f"inconsistent flag history: {event.name!r} enabled as id {event.flag_id}"
                )
            flag = replace(flag, enabled=True)
        else:
            flag = replace(flag, enabled=False)
        self._flags[event.name] = flag


def _grouped(readers: Mapping[str, str]) -> str:
    """`gw-1, gw-2 read 'power_peg' as id 1; gw-9 reads 'rlp' as id 1`: members by how."""
    by_how: dict[str, list[str]] = {}
    for member, how in readers.items():
        by_how.setdefault(how, []).append(member)
    return "; ".join(
        f"{', '.join(members)} {'reads' if len(members) == 1 else 'read'} {how}"
        for how, members in by_how.items()
    )


def _require_text(field: str, value: str, name: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise FlagError(f"flag {name!r}: {field} must be a non-empty text")
