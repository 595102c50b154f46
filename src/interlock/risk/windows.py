"""Time windows for the rate envelopes and the duplicate-order guard.

A sliding window of N orders per T keeps only the last N timestamps: the window is full
exactly when the oldest of them is still inside T. Checking is O(1) and never mutates;
recording is one deque append. Nothing is queued: a full window rejects.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable

from interlock.risk.limits import RateLimit, RateLimits

NS_PER_MS = 1_000_000


class SlidingWindow:
    __slots__ = ("count", "stamps", "window_ns")

    def __init__(self, limit: RateLimit) -> None:
        self.count = limit.count
        self.window_ns = limit.window_ms * NS_PER_MS
        self.stamps: deque[int] = deque(maxlen=limit.count)

    def full(self, now: int) -> bool:
        stamps = self.stamps
        return len(stamps) == self.count and stamps[0] > now - self.window_ns

    def in_window(self, now: int) -> int:
        """How many recorded orders fall inside the window ending at `now` (for messages)."""
        edge = now - self.window_ns
        return sum(1 for t in self.stamps if t > edge)

    def record(self, now: int) -> None:
        self.stamps.append(now)


class KeyedWindows:
    """One sliding window per key (strategy, symbol), created on first record."""

    __slots__ = ("_limit", "windows")

    def __init__(self, limit: RateLimit) -> None:
        self._limit = limit
        self.windows: dict[str, SlidingWindow] = {}

    @property
    def limit(self) -> RateLimit:
        return self._limit

    def record(self, key: str, now: int) -> None:
        w = self.windows.get(key)
        if w is None:
            w = self.windows[key] = SlidingWindow(self._limit)
        w.stamps.append(now)


class Throttles:
    """The four rate envelopes of one gateway instance."""

    __slots__ = ("instance", "market_symbol", "strategy", "symbol")

    def __init__(self, rates: RateLimits) -> None:
        self.instance = SlidingWindow(rates.per_instance)
        self.strategy = KeyedWindows(rates.per_strategy)
        self.symbol = KeyedWindows(rates.per_symbol)
        self.market_symbol = KeyedWindows(rates.market_per_symbol)


class RecentOrders:
    """When each (account, symbol, side, qty, price) was last accepted, inside a window.

    Old entries are swept in bulk once the map has doubled since the last sweep, so a
    record is one dict store (amortised O(1)) and memory stays bounded by the window.
    """

    __slots__ = ("_sweep_at", "last", "window_ns")

    def __init__(self, window_ms: int) -> None:
        self.window_ns = window_ms * NS_PER_MS
        self.last: dict[Hashable, int] = {}
        self._sweep_at = 1024

    def seen_within(self, key: Hashable, now: int) -> int | None:
        """Nanoseconds since the same order was accepted, if inside the window."""
        t = self.last.get(key)
        if t is None:
            return None
        age = now - t
        return age if age < self.window_ns else None

    def record(self, key: Hashable, now: int) -> None:
        last = self.last
        last[key] = now
        if len(last) >= self._sweep_at:
            edge = now - self.window_ns
            self.last = {k: t for k, t in last.items() if t > edge}
            self._sweep_at = max(1024, 2 * len(self.last))
