"""The control plane's flag registry, and its verdict on each live member's flag manifest.

Knight's stale router read the reused flag under its old meaning because no one compared
what each server believed a flag meant with what the operator meant. Here the plane holds
the one registry, and it judges every member's manifest with the registry's own
`FlagManifest.check` when the member joins and again after every change to the registry.
Switching a flag on, and retiring one, run the registry's rules against the manifests of
the members that are live at that moment (attested or not): enabling is refused unless
every one declares the flag, retiring while any one still reads it, naming them. So a
retire never strands a running build; a build that joins later reading the tombstone is
refused. No rule is restated here: every rule is the registry's, and this module only
supplies the live members. The changes below (`retire`, `enable`, ...) are the one spelling
every backend passes to `FleetFlags.change`.

Pure, like `SliceLedger`: a backend holds its lock around each call and announces the
`FlagChanged` a change returns.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, MutableMapping
from dataclasses import replace

from interlock.control.attestation import short
from interlock.control.plane import Attestation, FlagChanged, Member
from interlock.flags.manifest import FlagManifest
from interlock.flags.registry import Flag, FlagRegistry

FlagChange = Callable[[FlagRegistry, dict[str, FlagManifest]], Flag]
"""A change to make: given the registry and the live members' manifests, make it (or raise
FlagError) and return the flag it concerns."""


def register(name: str, flag_id: int, meaning: str, owner: str) -> FlagChange:
    return lambda registry, _: registry.register(name, flag_id, meaning, owner)


def retire(name: str, who: str) -> FlagChange:
    """Refused (FlagError naming them) while a live member reads the flag."""
    return lambda registry, live: registry.retire(name, live, who)


def enable(name: str, who: str) -> FlagChange:
    """Refused unless every live member declares the flag's id under its name."""
    return lambda registry, live: registry.enable(name, live, who)


def disable(name: str, who: str) -> FlagChange:
    return lambda registry, _: registry.disable(name, who)


def declared(attestation: Attestation) -> FlagManifest:
    """The manifest a member declares; a member that attests none declares no flag."""
    if attestation.manifest is not None:
        return attestation.manifest
    return FlagManifest(f"{short(attestation.build_digest)} (no flag manifest)", {})


def flag_refusal(attestation: Attestation, registry: FlagRegistry) -> str:
    """Why `registry` refuses this member's flags ("" if it accepts them)."""
    manifest = attestation.manifest
    if manifest is not None and manifest.digest() != attestation.flag_digest:
        return (
            f"flag manifest digest {short(manifest.digest())} is not the flag digest it "
            f"attests ({short(attestation.flag_digest)})"
        )
    mine = declared(attestation)
    reasons = mine.check(registry)
    return f"flag manifest of build {mine.build!r}: " + "; ".join(reasons) if reasons else ""


def live_manifests(members: Iterable[Member]) -> dict[str, FlagManifest]:
    """Each live member's declared manifest, by instance id: the enable preflight's input."""
    return {m.instance_id: declared(m.attestation) for m in members}


class FleetFlags:
    """The plane's flag registry. Not thread-safe: the backend locks around every call."""

    def __init__(
        self, registry: FlagRegistry | None = None, clock: Callable[[], int] = time.time_ns
    ) -> None:
        history = registry.history if registry is not None else ()
        self._registry = FlagRegistry.from_history(history, clock)

    def snapshot(self) -> FlagRegistry:
        """A copy of the registry, folded from its history."""
        return FlagRegistry.from_history(self._registry.history)

    def enabled(self) -> frozenset[int]:
        return self._registry.enabled_ids()

    def judge(self, attestation: Attestation) -> str:
        """The verdict on a joining member's manifest (see `flag_refusal`)."""
        return flag_refusal(attestation, self._registry)

    def change(
        self, change: FlagChange, members: MutableMapping[str, Member]
    ) -> tuple[Flag, FlagChanged | None]:
        """Make `change` with the live `members`' manifests; if it changed the registry,
        judge every member again (updating `members` in place) and return the event that
        announces it. FlagError (and nothing changed) if the registry refuses it."""
        before = len(self._registry.history)
        flag = change(self._registry, live_manifests(members.values()))
        history = self._registry.history
        if len(history) == before:
            return flag, None
        for instance_id, member in list(members.items()):
            verdict = self.judge(member.attestation)
            if verdict != member.flag_refusal:
                members[instance_id] = replace(member, flag_refusal=verdict)
        refused = tuple(sorted((i, m.flag_refusal) for i, m in members.items() if m.flag_refusal))
        changed = FlagChanged(history[-1], self._registry.enabled_ids(), len(history), refused)
        return flag, changed
