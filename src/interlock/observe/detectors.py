"""Monitors that watch the gateway's decisions and fills and trip the kill switch by themselves.

Knight had no way to halt SMARS for its own aberrant activity (SEC ¶21). These do it
without a person:

    RepeatedChild     the same child order (parent, side, quantity) accepted again and again
                      inside a short window: a loop that no longer looks at what it got.
    OrderToFillRatio  orders accepted against fills received, per instance and strategy,
                      over a sliding window: orders that do not fill are orders not needed.
    RejectStorm       the circuit breaker: a sustained storm of risk refusals on one
                      instance. It sees only refusals, so it never acts on its own: it turns
                      a defence that refuses (a rate envelope, a position limit, the
                      overfill guard) into a halt. Refusals by the fleet gate and HALTED are
                      not counted: such an instance is already stopped.

Each trip names a scope and a target for the kill switch (by default the strategy, fleet
wide: a runaway is in the strategy's code, which every instance runs). A monitor trips a
scope and target once; the kill switch it calls confirms the halt across the fleet.
Detectors are pure state machines fed with times (ns): no clock, no I/O.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from interlock.domain.commands import OrderRequest
from interlock.domain.decision import Decision
from interlock.domain.enums import HaltScope
from interlock.domain.reject import RejectCode

NS_PER_MS = 1_000_000
STOPPED = frozenset({
    RejectCode.HALTED,
    RejectCode.INSTANCE_NOT_ATTESTED,
    RejectCode.STALE_EPOCH,
    RejectCode.FLEET_NO_QUORUM,
    RejectCode.CONTROL_PLANE_LOST,
})  # fmt: skip
"""Refusals that mean the instance is already stopped: not part of a reject storm."""


@dataclass(frozen=True, slots=True)
class Trip:
    """A monitor's verdict: halt `scope`/`target`, and why."""

    detector: str
    scope: HaltScope
    target: str
    reason: str
    ts: int


class Detector(Protocol):
    name: str

    def on_decision(
        self, instance: str, request: OrderRequest, decision: Decision, now: int
    ) -> Trip | None: ...

    def on_fill(self, instance: str, strategy: str, qty: int, now: int) -> Trip | None: ...


@dataclass
class _Window:
    """Timestamps inside a sliding window of `window_ns`."""

    window_ns: int
    stamps: deque[int] = field(default_factory=deque)

    def add(self, now: int) -> int:
        self.stamps.append(now)
        return self.count(now)

    def count(self, now: int) -> int:
        edge, s = now - self.window_ns, self.stamps
        while s and s[0] <= edge:
            s.popleft()
        return len(s)


class RepeatedChild:
    name = "repeated_child"

    def __init__(self, count: int = 10, window_ms: int = 2_000) -> None:
        self.limit = count
        self.window_ns = window_ms * NS_PER_MS
        self._seen: dict[Hashable, _Window] = {}

    def on_decision(
        self, instance: str, request: OrderRequest, decision: Decision, now: int
    ) -> Trip | None:
        if not decision.accepted or request.parent_id is None:
            return None
        key = (instance, request.parent_id, request.side, request.quantity)
        w = self._seen.get(key)
        if w is None:
            w = self._seen[key] = _Window(self.window_ns)
        n = w.add(now)
        if n < self.limit:
            return None
        return Trip(self.name, HaltScope.STRATEGY, request.strategy,
                    f"{n} identical children of parent {request.parent_id} ({request.side.value} "
                    f"{request.quantity:,} {request.symbol}) accepted on {instance} within "
                    f"{self.window_ns // NS_PER_MS:,} ms, limit {self.limit}", now)  # fmt: skip

    def on_fill(self, instance: str, strategy: str, qty: int, now: int) -> Trip | None:
        return None


class OrderToFillRatio:
    name = "order_to_fill"

    def __init__(self, max_ratio: float = 5.0, min_orders: int = 100, window_ms: int = 2_000):
        self.max_ratio = max_ratio
        self.min_orders = min_orders
        self.window_ns = window_ms * NS_PER_MS
        self._orders: dict[tuple[str, str], _Window] = {}
        self._fills: dict[tuple[str, str], _Window] = {}

    def _w(self, book: dict[tuple[str, str], _Window], key: tuple[str, str]) -> _Window:
        w = book.get(key)
        if w is None:
            w = book[key] = _Window(self.window_ns)
        return w

    def on_decision(
        self, instance: str, request: OrderRequest, decision: Decision, now: int
    ) -> Trip | None:
        if not decision.accepted:
            return None
        key = (instance, request.strategy)
        orders = self._w(self._orders, key).add(now)
        fills = self._w(self._fills, key).count(now)
        if orders < self.min_orders or orders < self.max_ratio * max(fills, 1):
            return None
        return Trip(self.name, HaltScope.STRATEGY, request.strategy,
                    f"{orders} orders and {fills} fills for strategy {request.strategy} on "
                    f"{instance} within {self.window_ns // NS_PER_MS:,} ms: ratio over "
                    f"{self.max_ratio:g}", now)  # fmt: skip

    def on_fill(self, instance: str, strategy: str, qty: int, now: int) -> Trip | None:
        self._w(self._fills, (instance, strategy)).add(now)
        return None


class RejectStorm:
    name = "reject_storm"

    def __init__(self, min_rejects: int = 100, share: float = 0.5, window_ms: int = 1_000):
        self.min_rejects = min_rejects
        self.share = share
        self.window_ns = window_ms * NS_PER_MS
        self._rejects: dict[str, _Window] = {}
        self._orders: dict[str, _Window] = {}

    def on_decision(
        self, instance: str, request: OrderRequest, decision: Decision, now: int
    ) -> Trip | None:
        code = decision.code
        if code in STOPPED:
            return None
        orders = self._orders.setdefault(instance, _Window(self.window_ns)).add(now)
        if code is None:
            return None  # an accepted order counts, but only a refusal can trip the breaker
        rejects = self._rejects.setdefault(instance, _Window(self.window_ns)).add(now)
        if rejects < self.min_rejects or rejects < self.share * orders:
            return None
        return Trip(self.name, HaltScope.STRATEGY, request.strategy,
                    f"{rejects} of {orders} orders refused on {instance} within "
                    f"{self.window_ns // NS_PER_MS:,} ms (last: {code}): a sustained reject "
                    "storm", now)  # fmt: skip

    def on_fill(self, instance: str, strategy: str, qty: int, now: int) -> Trip | None:
        return None


KillSwitch = Callable[[Trip], None]


class RunawayMonitor:
    """Feeds every decision and fill to its detectors; the first trip of a scope and target
    calls the kill switch (once). `trips` keeps every trip, in order."""

    def __init__(self, detectors: Sequence[Detector], kill: KillSwitch) -> None:
        self.detectors = tuple(detectors)
        self.kill = kill
        self.trips: list[Trip] = []
        self._tripped: set[tuple[HaltScope, str]] = set()

    def on_decision(
        self, instance: str, request: OrderRequest, decision: Decision, now: int
    ) -> None:
        for d in self.detectors:
            self._handle(d.on_decision(instance, request, decision, now))

    def on_fill(self, instance: str, strategy: str, qty: int, now: int) -> None:
        for d in self.detectors:
            self._handle(d.on_fill(instance, strategy, qty, now))

    def _handle(self, trip: Trip | None) -> None:
        if trip is None or (trip.scope, trip.target) in self._tripped:
            return
        self._tripped.add((trip.scope, trip.target))
        self.trips.append(trip)
        self.kill(trip)


def default_detectors() -> list[Detector]:
    """The runaway detectors with their default thresholds (the breaker is separate)."""
    return [RepeatedChild(), OrderToFillRatio()]
