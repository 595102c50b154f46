"""Monitors that watch the gateway's decisions and fills and trip the kill switch by themselves.

Knight had no way to halt SMARS for its own aberrant activity (SEC ¶21). These do it
without a person, and they run inside every `Gateway`, however it is built:

    RepeatedChild     the same child order (parent, side, quantity) accepted again and again
                      inside a short window: a loop that no longer looks at what it got.
    OrderToFillRatio  orders accepted against fills received, per account, over a sliding
                      window: orders that do not fill are orders not needed.
    AccountFlow       orders attempted per account, and per instance, over a sliding window:
                      a loop far faster than the desk the config describes, whatever it
                      names its strategies and however it spreads over symbols and sides.
    TradedNotional    money filled per account over a window: a loop that trades (spread
                      over symbols, alternating sides, so no position limit engages).
    RejectStorm       the circuit breaker: a sustained storm of risk refusals of one account,
                      or of one instance. It sees only refusals, so it never acts on its own:
                      it turns a defence that refuses (a rate envelope, a position limit, the
                      overfill guard) into a halt. Refusals by the fleet gate and HALTED are
                      not counted: such an instance is already stopped.

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

    def count(self, now: int) -> int:
        edge = now - self.window_ns
        return sum(1 for t in self.stamps if t > edge)


class _Counter:
    """Timestamps (and optional amounts) inside a sliding window, counted exactly."""

    __slots__ = ("amounts", "stamps", "total", "window_ns")

    def __init__(self, window_ns: int) -> None:
        self.window_ns = window_ns
        self.stamps: deque[int] = deque()
        self.amounts: deque[int] = deque()
        self.total = 0

    def add(self, now: int, amount: int = 1) -> int:
        self.stamps.append(now)
        self.amounts.append(amount)
        self.total += amount
        return self.sum(now)

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


class OrderToFillRatio:
    name = "order_to_fill"
    sees_decisions = True
    sees_fills = True

    def __init__(self, max_ratio: float = 5.0, min_orders: int = 100, window_ms: int = 2_000):
        self.max_ratio = max_ratio
        self.min_orders = min_orders
        self.window_ns = window_ms * NS_PER_MS
        self._orders: dict[str, _Last] = {}
        self._fills: dict[str, _Counter] = {}

    def on_decision(
        self, instance: str, request: OrderRequest, decision: Decision, now: int
    ) -> Trip | None:
        if decision.rejection is not None:
            return None
        account = request.account
        w = self._orders.get(account)
        if w is None:
            w = self._orders[account] = _Last(self.min_orders, self.window_ns)
        if not w.add(now):
            return None
        fills = self._fills.get(account)
        filled = fills.sum(now) if fills is not None else 0
        if self.min_orders < self.max_ratio * max(filled, 1):
            return None
        return Trip(self.name, _ACCOUNT, account,
                    f"{self.min_orders} orders and {filled} fills for account {account} on "
                    f"{instance} within {self.window_ns // NS_PER_MS:,} ms: ratio over "
                    f"{self.max_ratio:g} (last strategy {request.strategy})", now)  # fmt: skip

    def on_fill(
        self, instance: str, account: str, qty: int, notional: int, now: int
    ) -> Trip | None:
        w = self._fills.get(account)
        if w is None:
            w = self._fills[account] = _Counter(self.window_ns)
        w.add(now)
        return None


class AccountFlow:
    """More than `max_orders` attempts of one account (or `instance_max_orders` of the
    instance) inside the window: accepted or refused by a risk check alike."""

    name = "account_flow"
    sees_decisions = True
    sees_fills = False

    def __init__(
        self, max_orders: int = 100, instance_max_orders: int = 150, window_ms: int = 1_000
    ) -> None:
        self.max_orders = max_orders
        self.instance_max_orders = instance_max_orders
        self.window_ns = window_ms * NS_PER_MS
        self._accounts: dict[str, _Last] = {}
        self._instance = _Last(instance_max_orders + 1, self.window_ns)

    def on_decision(
        self, instance: str, request: OrderRequest, decision: Decision, now: int
    ) -> Trip | None:
        if decision.rejection is not None and decision.rejection.code in STOPPED:
            return None
        account = request.account
        w = self._accounts.get(account)
        if w is None:
            w = self._accounts[account] = _Last(self.max_orders + 1, self.window_ns)
        ms = self.window_ns // NS_PER_MS
        if w.add(now):
            return Trip(self.name, _ACCOUNT, account,
                        f"{self.max_orders + 1:,} orders of account {account} on {instance} "
                        f"within {ms:,} ms, limit {self.max_orders:,} (last strategy "
                        f"{request.strategy}, {request.symbol})", now)  # fmt: skip
        if self._instance.add(now):
            return Trip(self.name, _INSTANCE, instance,
                        f"{self.instance_max_orders + 1:,} orders on instance {instance} "
                        f"within {ms:,} ms, limit {self.instance_max_orders:,}", now)  # fmt: skip
        return None

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


class RejectStorm:
    name = "reject_storm"
    sees_decisions = True
    sees_fills = False

    def __init__(
        self,
        min_rejects: int = 100,
        share: float = 0.5,
        window_ms: int = 1_000,
        instance_min_rejects: int = 200,
    ):
        self.min_rejects = min_rejects
        self.instance_min_rejects = instance_min_rejects
        self.share = share
        self.window_ns = window_ms * NS_PER_MS
        self._rejects: dict[str, _Last] = {}
        self._orders: dict[str, _Counter] = {}
        self._instance_rejects = _Last(instance_min_rejects, self.window_ns)
        self._instance_orders = _Counter(self.window_ns)

    def on_decision(
        self, instance: str, request: OrderRequest, decision: Decision, now: int
    ) -> Trip | None:
        rejection = decision.rejection
        if rejection is not None and rejection.code in STOPPED:
            return None
        account = request.account
        orders = self._orders.get(account)
        if orders is None:
            orders = self._orders[account] = _Counter(self.window_ns)
        orders.stamps.append(now)  # counted lazily: only a full reject window reads them
        orders.amounts.append(1)
        orders.total += 1
        io = self._instance_orders
        io.stamps.append(now)
        io.amounts.append(1)
        io.total += 1
        if rejection is None:
            return None  # an accepted order counts, but only a refusal can trip the breaker
        w = self._rejects.get(account)
        if w is None:
            w = self._rejects[account] = _Last(self.min_rejects, self.window_ns)
        ms = self.window_ns // NS_PER_MS
        code = rejection.code
        if w.add(now):
            total = orders.sum(now)
            if self.min_rejects >= self.share * total:
                return Trip(self.name, _ACCOUNT, account,
                            f"{self.min_rejects} of {total} orders of account {account} "
                            f"refused on {instance} within {ms:,} ms (last: {code}): a "
                            "sustained reject storm", now)  # fmt: skip
        if self._instance_rejects.add(now):
            total = io.sum(now)
            if self.instance_min_rejects >= self.share * total:
                return Trip(self.name, _INSTANCE, instance,
                            f"{self.instance_min_rejects} of {total} orders refused on "
                            f"{instance} within {ms:,} ms (last: {code}): a sustained reject "
                            "storm", now)  # fmt: skip
        if len(orders.stamps) > 4 * self.min_rejects:  # keep the lazy counters bounded
            orders.sum(now)
        if len(io.stamps) > 4 * self.instance_min_rejects:
            io.sum(now)
        return None

    def on_fill(
        self, instance: str, account: str, qty: int, notional: int, now: int
    ) -> Trip | None:
        return None


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
        self._decide = tuple(d.on_decision for d in self.detectors if d.sees_decisions)
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


def default_detectors() -> list[Detector]:
    """The runaway detectors with their default thresholds (the breaker is separate)."""
    return [RepeatedChild(), OrderToFillRatio(), AccountFlow(), TradedNotional()]
