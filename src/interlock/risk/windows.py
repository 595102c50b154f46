"""Time windows for the rate envelopes and the duplicate-order guard.

A sliding window of N orders per T keeps only the last N timestamps: the window is full
exactly when the oldest of them is still inside T. Checking is O(1) and never mutates;
recording is one deque append. Nothing is queued: a full window rejects.

A notional window sums money over T: it keeps (time, amount) pairs and a running total,
dropping expired pairs only when the total alone would refuse, so the common check is
one addition and one comparison.

Every window but the instance's belongs to one account (`AccountWindows`): one account
can never spend another's quota, and a strategy name that no API key declares for the
account counts in the account's shared `*` window, so a new name per order opens nothing.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable

from interlock.risk.limits import AccountRisk, RateLimit, RateLimits

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


class NotionalWindow:
    """Money (micros) accepted inside a sliding window, against a limit."""

    __slots__ = ("amounts", "limit", "stamps", "total", "window_ns")

    def __init__(self, limit_micros: int, window_ms: int) -> None:
        self.limit = limit_micros
        self.window_ns = window_ms * NS_PER_MS
        self.stamps: deque[int] = deque()
        self.amounts: deque[int] = deque()
        self.total = 0

    def used(self, now: int) -> int:
        """The money inside the window ending at `now`, after dropping what expired."""
        edge, stamps, amounts = now - self.window_ns, self.stamps, self.amounts
        while stamps and stamps[0] <= edge:
            stamps.popleft()
            self.total -= amounts.popleft()
        return self.total

    def over(self, notional: int, now: int) -> bool:
        """True if `notional` more would pass the limit inside the window."""
        return self.total + notional > self.limit and self.used(now) + notional > self.limit

    def record(self, now: int, notional: int) -> None:
        self.stamps.append(now)
        self.amounts.append(notional)
        self.total += notional
        if self.stamps[0] <= now - self.window_ns:
            self.used(now)  # what expired goes now, not only when the limit is near


SHARED_STRATEGY = "*"
"""The window key of every strategy name that no API key declares for the account."""


class AccountWindows:
    """One account's envelopes: orders and notional per second and per minute, and its own
    windows per strategy, per symbol and for market orders per symbol."""

    __slots__ = (
        "declared",
        "market_symbol",
        "notional_min",
        "notional_s",
        "orders_min",
        "orders_s",
        "strategy",
        "symbol",
    )

    def __init__(self, risk: AccountRisk, rates: RateLimits, declared: frozenset[str]) -> None:
        self.declared = declared  # strategy names some API key names for this account
        self.orders_s = SlidingWindow(RateLimit(count=risk.orders_per_second, window_ms=1_000))
        self.orders_min = SlidingWindow(RateLimit(count=risk.orders_per_minute, window_ms=60_000))
        self.notional_s = NotionalWindow(risk.notional_per_second, 1_000)
        self.notional_min = NotionalWindow(risk.notional_per_minute, 60_000)
        self.strategy = KeyedWindows(rates.per_strategy)
        self.symbol = KeyedWindows(rates.per_symbol)
        self.market_symbol = KeyedWindows(rates.market_per_symbol)

    def strategy_key(self, strategy: str) -> str:
        """The window a strategy name counts in (record and check_rate inline this)."""
        return strategy if strategy in self.declared else SHARED_STRATEGY

    def record(self, strategy: str, symbol: str, notional: int, is_market: bool, now: int) -> None:
        """Count one accepted order in every window (inline: this runs on every accept)."""
        self.orders_s.stamps.append(now)
        self.orders_min.stamps.append(now)
        n = self.notional_s  # the checks prune only near the limit: prune here too, so a
        n.stamps.append(now)  # window far from its limit keeps its span, not the whole day
        n.amounts.append(notional)
        n.total += notional
        if n.stamps[0] <= now - n.window_ns:
            n.used(now)
        n = self.notional_min
        n.stamps.append(now)
        n.amounts.append(notional)
        n.total += notional
        if n.stamps[0] <= now - n.window_ns:
            n.used(now)
        key = strategy if strategy in self.declared else SHARED_STRATEGY
        w = self.strategy.windows.get(key)
        if w is None:
            w = self.strategy.windows[key] = SlidingWindow(self.strategy.limit)
        w.stamps.append(now)
        w = self.symbol.windows.get(symbol)
        if w is None:
            w = self.symbol.windows[symbol] = SlidingWindow(self.symbol.limit)
        w.stamps.append(now)
        if is_market:
            self.market_symbol.record(symbol, now)


class Throttles:
    """The instance-wide envelope (every account's orders together)."""

    __slots__ = ("instance",)

    def __init__(self, rates: RateLimits) -> None:
        self.instance = SlidingWindow(rates.per_instance)


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
