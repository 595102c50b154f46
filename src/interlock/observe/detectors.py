"""Monitors that watch the gateway's decisions and fills and trip the kill switch by themselves.

Knight had no way to halt SMARS for its own aberrant activity (SEC ¶21). These do it
without a person, and they run inside every `Gateway`, however it is built:

    RepeatedChild     the same child order (parent, side, quantity) accepted again and again
                      inside a short window: a loop that no longer looks at what it got.
    TradedNotional    money filled per account over a window: a loop that trades (spread
                      over symbols, alternating sides, so no position limit engages).
    DecisionRules     (decisions.py) the rules on the stream of decisions of each account:
                      account flow, order-to-fill ratio and the reject-storm breaker.

Every trip names an account (fleet-wide: every instance halts it) or, for the instance
totals, this instance: never a strategy name alone, which a runaway can change per order.
Only authenticated decisions are fed (the gateway's job), so no caller can trip another
account's halt by sending garbage in its name. Detectors are pure state machines fed with
times (ns): no clock, no I/O. A window of "more than N inside T" keeps the last N stamps in
a bounded deque, so each decision costs one append and two comparisons.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Protocol

from interlock.domain.commands import OrderRequest
from interlock.domain.decision import Decision
from interlock.domain.enums import HaltScope
from interlock.domain.money import fmt_money
from interlock.domain.reject import RejectCode

NS_PER_MS = 1_000_000
STOPPED = frozenset({
    RejectCode.HALTED,
    RejectCode.INSTANCE_NOT_ATTESTED,
    RejectCode.STALE_EPOCH,
    RejectCode.FLEET_NO_QUORUM,
    RejectCode.CONTROL_PLANE_LOST,
    RejectCode.VENUE_RECONCILING,
    RejectCode.NOT_READY,
})  # fmt: skip
"""Refusals that mean the instance is already stopped: not part of a reject storm."""
_ACCOUNT = HaltScope.ACCOUNT
_INSTANCE = HaltScope.INSTANCE


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
    sees_decisions: bool  # False: on_decision never trips, the monitor skips the call
    sees_fills: bool

    def on_decision(
        self, instance: str, request: OrderRequest, decision: Decision, now: int
    ) -> Trip | None: ...

    def on_fill(
        self, instance: str, account: str, qty: int, notional: int, now: int
    ) -> Trip | None: ...


class _Last:
    """The last `n` stamps: more than n-1 inside `window_ns` once full and the oldest is in."""

    __slots__ = ("n", "stamps", "window_ns")

    def __init__(self, n: int, window_ns: int) -> None:
        self.n = n
        self.window_ns = window_ns
        self.stamps: deque[int] = deque(maxlen=n)

    def add(self, now: int) -> bool:
        """Record `now`; True when the window now holds `n` stamps."""
        s = self.stamps
        s.append(now)
        return len(s) == self.n and s[0] > now - self.window_ns


class _Counter:
    """Timestamps (and optional amounts) inside a sliding window, counted exactly."""

    __slots__ = ("amounts", "stamps", "total", "window_ns")

    def __init__(self, window_ns: int) -> None:
        self.window_ns = window_ns
        self.stamps: deque[int] = deque()
        self.amounts: deque[int] = deque()
        self.total = 0

    def add(self, now: int, amount: int = 1) -> int:
        """Record `amount` at `now`; the total inside the window (`sum`, inline)."""
        s, a = self.stamps, self.amounts
        s.append(now)
        a.append(amount)
        total = self.total + amount
        edge = now - self.window_ns
        while s and s[0] <= edge:
            s.popleft()
            total -= a.popleft()
        self.total = total
        return total

    def sum(self, now: int) -> int:
        edge, s, a = now - self.window_ns, self.stamps, self.amounts
        while s and s[0] <= edge:
            s.popleft()
            self.total -= a.popleft()
        return self.total


class RepeatedChild:
    name = "repeated_child"
    sees_decisions = True
    sees_fills = False
    children_only = True  # the monitor calls it only for orders that name a parent

    def __init__(self, count: int = 10, window_ms: int = 2_000) -> None:
        self.limit = count
        self.window_ns = window_ms * NS_PER_MS
        self._seen: dict[Hashable, _Last] = {}

    def on_decision(
        self, instance: str, request: OrderRequest, decision: Decision, now: int
    ) -> Trip | None:
        if request.parent_id is None or decision.rejection is not None:
            return None
        key = (request.account, request.parent_id, request.side, request.quantity)
        w = self._seen.get(key)
        if w is None:
            w = self._seen[key] = _Last(self.limit, self.window_ns)
        if not w.add(now):
            return None
        return Trip(self.name, _ACCOUNT, request.account,
                    f"{self.limit} identical children of parent {request.parent_id} "
                    f"({request.side.value} {request.quantity:,} {request.symbol}, strategy "
                    f"{request.strategy}) accepted on {instance} within "
                    f"{self.window_ns // NS_PER_MS:,} ms, limit {self.limit}", now)  # fmt: skip

    def on_fill(
        self, instance: str, account: str, qty: int, notional: int, now: int
    ) -> Trip | None:
        return None


class TradedNotional:
    """More than `max_micros` filled for one account inside the window."""

    name = "traded_notional"
    sees_decisions = False
    sees_fills = True

    def __init__(self, max_micros: int = 10_000_000_000_000, window_ms: int = 10_000) -> None:
        self.max_micros = max_micros
        self.window_ns = window_ms * NS_PER_MS
        self._accounts: dict[str, _Counter] = {}

    def on_decision(
        self, instance: str, request: OrderRequest, decision: Decision, now: int
    ) -> Trip | None:
        return None

    def on_fill(
        self, instance: str, account: str, qty: int, notional: int, now: int
    ) -> Trip | None:
        w = self._accounts.get(account)
        if w is None:
            w = self._accounts[account] = _Counter(self.window_ns)
        traded = w.add(now, notional)
        if traded <= self.max_micros:
            return None
        return Trip(self.name, _ACCOUNT, account,
                    f"account {account} traded {fmt_money(traded)} on {instance} within "
                    f"{self.window_ns // NS_PER_MS:,} ms, limit {fmt_money(self.max_micros)}",
                    now)  # fmt: skip


KillSwitch = Callable[[Trip], None]


class RunawayMonitor:
    """Feeds every decision and fill to its detectors; the first trip of a scope and target
    calls the kill switch (once). `trips` keeps every trip, in order.

    The kill switch is called by `fire()` (or the caller takes the trips with `take()`),
    never from inside `on_decision`/`on_fill`: the gateway feeds the monitor under its lock
    and acts once it has let go, because a halt takes that lock to cancel what it covers.
    """

    def __init__(self, detectors: Sequence[Detector], kill: KillSwitch) -> None:
        self.detectors = tuple(detectors)
        deciding = [d for d in self.detectors if d.sees_decisions]
        self._decide = tuple(d.on_decision for d in deciding
                             if not getattr(d, "children_only", False))  # fmt: skip
        self._children = tuple(d.on_decision for d in deciding
                               if getattr(d, "children_only", False))  # fmt: skip
        self._fill = tuple(d.on_fill for d in self.detectors if d.sees_fills)
        self.kill = kill
        self.trips: list[Trip] = []
        self.pending: list[Trip] = []
        self._tripped: set[tuple[HaltScope, str]] = set()

    def on_decision(
        self, instance: str, request: OrderRequest, decision: Decision, now: int
    ) -> None:
        for fn in self._decide:
            trip = fn(instance, request, decision, now)
            if trip is not None:
                self._handle(trip)
        if request.parent_id is not None:
            for fn in self._children:
                trip = fn(instance, request, decision, now)
                if trip is not None:
                    self._handle(trip)

    def on_fill(self, instance: str, account: str, qty: int, notional: int, now: int) -> None:
        for fn in self._fill:
            trip = fn(instance, account, qty, notional, now)
            if trip is not None:
                self._handle(trip)

    def _handle(self, trip: Trip) -> None:
        key = (trip.scope, trip.target)
        if key in self._tripped:
            return
        self._tripped.add(key)
        self.trips.append(trip)
        self.pending.append(trip)

    def rearm(self, scope: HaltScope, target: str) -> None:
        """A person lifted the halt: the same scope may trip again."""
        self._tripped.discard((scope, target))

    def take(self) -> list[Trip]:
        """The trips not yet acted on (the caller holds the lock that feeds the monitor)."""
        trips, self.pending = self.pending, []
        return trips

    def fire(self) -> None:
        """Pull the kill switch for every trip not yet acted on (outside any lock)."""
        for trip in self.take():
            self.kill(trip)
