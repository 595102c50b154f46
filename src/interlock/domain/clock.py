"""Time as the order path reads it: a callable returning Unix nanoseconds.

Production passes `time.time_ns`; the replay, the simulators and tests pass a
`ManualClock`, which moves only when told, so a run is the same every time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

Clock = Callable[[], int]
"""Unix time in nanoseconds."""


@dataclass
class ManualClock:
    """A clock that stands still until advanced: deterministic time for replays and tests."""

    now: int

    def __call__(self) -> int:
        return self.now

    def advance_ms(self, ms: float) -> int:
        self.now += int(ms * 1_000_000)
        return self.now
