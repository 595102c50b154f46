"""The Knight flag story as test data: Power Peg retired, RLP under a new name and id."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from interlock.flags import FlagManifest, FlagRegistry

T0 = 1_343_800_000_000_000_000  # 2012-08-01T05:46:40Z, in ns


def ticking_clock(start: int = T0, step: int = 1_000_000_000) -> Callable[[], int]:
    """A clock that moves one second per read: deterministic event times."""
    ticks: Iterator[int] = iter(range(start, start + 10**9 * step, step))
    return lambda: next(ticks)


def knight_registry() -> FlagRegistry:
    registry = FlagRegistry(ticking_clock())
    registry.register("power_peg", 1, "Power Peg parent-order slicer (unused since 2003)", "smars")
    registry.retire("power_peg", {}, "release-eng")
    registry.register("rlp", 8, "Retail Liquidity Program routing", "smars")
    return registry


def fleet(stale: FlagManifest | None = None) -> dict[str, FlagManifest]:
    """Eight routers on the RLP build; with `stale`, gw-8 kept the old one."""
    new = FlagManifest("smars-2012.07.27", {"rlp": 8})
    members = {f"gw-{i}": new for i in range(1, 9)}
    if stale is not None:
        members["gw-8"] = stale
    return members
