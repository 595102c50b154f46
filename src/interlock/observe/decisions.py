"""The rules on each account's stream of decisions, in one detector so that a decision
costs one call and one lookup, however many rules watch it:

    account_flow   more than `max_orders` attempts of one account (or `instance_max_orders`
                   of the instance) inside the window, accepted or refused by a risk check
                   alike: a loop far faster than the desk the config describes, whatever it
                   names its strategies and however it spreads over symbols and sides.
    order_to_fill  `min_orders` accepted inside the window against fewer than
                   min_orders / max_ratio fills: orders that do not fill are orders not
                   needed.
    reject_storm   the circuit breaker: `min_rejects` risk refusals of one account (or
                   `instance_min_rejects` of the instance) inside the window, and at least
                   `share` of its orders there. It sees only refusals, so it never acts on
                   its own: it turns a defence that refuses (a rate envelope, a position
                   limit, the overfill guard) into a halt.

Refusals by the fleet gate and HALTED are counted by none of them: such an instance is
already stopped. Each "more than N inside T" keeps only the last N stamps in a bounded
deque: full, with its oldest inside T, means N inside T. The storm keeps every stamp of
the window (bounded far above any real rate) and counts them, exactly, only once its
`min_rejects`-th latest refusal is inside the window.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from interlock.domain.commands import OrderRequest
from interlock.domain.decision import Decision
from interlock.domain.enums import HaltScope
from interlock.observe.detectors import NS_PER_MS, STOPPED, Trip, _Counter

_ACCOUNT = HaltScope.ACCOUNT
_INSTANCE = HaltScope.INSTANCE


@dataclass(frozen=True, slots=True)
class FlowRule:
    max_orders: int = 100
    instance_max_orders: int = 150
    window_ms: int = 1_000


@dataclass(frozen=True, slots=True)
class FillRatioRule:
    max_ratio: float = 5.0
    min_orders: int = 100
    window_ms: int = 2_000


@dataclass(frozen=True, slots=True)
class StormRule:
    min_rejects: int = 100
    share: float = 0.5
    window_ms: int = 1_000
    instance_min_rejects: int = 200


class _Streams:
    """One account's bounded stamp deques, one per rule that watches it."""

    __slots__ = ("accepted", "attempts", "fills", "orders", "rejects")

    def __init__(self, flow: int, accepted: int, fill_ns: int):
        self.attempts: deque[int] = deque(maxlen=flow)
        self.accepted: deque[int] = deque(maxlen=accepted)
        self.orders: deque[int] = deque(maxlen=_CAP)
        self.rejects: deque[int] = deque(maxlen=_CAP)
        self.fills = _Counter(fill_ns)


_CAP = 100_000
"""Stamps a storm stream keeps: far above any rate the rate envelopes let through."""


def _storming(rejects: deque[int], orders: deque[int], least: int, share: float, edge: int) -> int:
    """The orders inside the window if `rejects` hold at least `least` refusals there and
    at least `share` of those orders; else 0. Drops what left the window."""
    if len(rejects) < least or rejects[-least] <= edge:
        return 0
    while rejects and rejects[0] <= edge:
        rejects.popleft()
    while orders and orders[0] <= edge:
        orders.popleft()
    return len(orders) if len(rejects) >= share * len(orders) else 0


class DecisionRules:
    name = "decision_rules"
    sees_decisions = True
    sees_fills = True

    def __init__(
        self,
        flow: FlowRule | None = None,
        fill_ratio: FillRatioRule | None = None,
        storm: StormRule | None = None,
    ) -> None:
        self.flow, self.fill_ratio, self.storm = flow, fill_ratio, storm
        self._flow_ns = flow.window_ms * NS_PER_MS if flow else 0
        self._fill_ns = fill_ratio.window_ms * NS_PER_MS if fill_ratio else 0
        self._storm_ns = storm.window_ms * NS_PER_MS if storm else 0
        self._flow_n = flow.max_orders + 1 if flow else 1
        self._fill_n = fill_ratio.min_orders if fill_ratio else 1
        self._storm_n = storm.min_rejects if storm else 1
        self._accounts: dict[str, _Streams] = {}
        self._inst_flow_n = flow.instance_max_orders + 1 if flow else 1
        self._inst_attempts: deque[int] = deque(maxlen=self._inst_flow_n)
        inst_rejects = storm.instance_min_rejects if storm else 1
        self._inst_min_rejects = inst_rejects
        self._inst_rejects: deque[int] = deque(maxlen=_CAP)
        self._inst_orders: deque[int] = deque(maxlen=_CAP)

    def _streams(self, account: str) -> _Streams:
        st = self._accounts[account] = _Streams(self._flow_n, self._fill_n, self._fill_ns)
        return st

    def on_decision(
        self, instance: str, request: OrderRequest, decision: Decision, now: int
    ) -> Trip | None:
        rejection = decision.rejection
        if rejection is not None and rejection.code in STOPPED:
            return None
        account = request.account
        st = self._accounts.get(account) or self._streams(account)
        if self.flow is not None:
            edge = now - self._flow_ns
            a = st.attempts
            a.append(now)
            if len(a) == self._flow_n and a[0] > edge:
                return self._flow_trip(_ACCOUNT, account, request, instance, now)
            a = self._inst_attempts
            a.append(now)
            if len(a) == self._inst_flow_n and a[0] > edge:
                return self._flow_trip(_INSTANCE, instance, request, instance, now)
        if self.storm is not None:
            st.orders.append(now)
            self._inst_orders.append(now)
        if rejection is None:
            if self.fill_ratio is None:
                return None
            a = st.accepted
            a.append(now)
            if len(a) < self._fill_n or a[0] <= now - self._fill_ns:
                return None
            return self._fill_trip(st, account, request, instance, now)
        if self.storm is None:
            return None
        return self._storm(st, account, rejection.code, instance, now)

    def on_fill(
        self, instance: str, account: str, qty: int, notional: int, now: int
    ) -> Trip | None:
        if self.fill_ratio is not None:
            st = self._accounts.get(account) or self._streams(account)
            st.fills.add(now)
        return None

    # -- the rare paths: a window is full -------------------------------------------------

    def _flow_trip(
        self, scope: HaltScope, target: str, request: OrderRequest, instance: str, now: int
    ) -> Trip:
        assert self.flow is not None
        ms, f = self.flow.window_ms, self.flow
        if scope is _ACCOUNT:
            return Trip("account_flow", scope, target,
                        f"{f.max_orders + 1:,} orders of account {target} on {instance} within "
                        f"{ms:,} ms, limit {f.max_orders:,} (last strategy {request.strategy}, "
                        f"{request.symbol})", now)  # fmt: skip
        return Trip("account_flow", scope, target,
                    f"{f.instance_max_orders + 1:,} orders on instance {instance} within "
                    f"{ms:,} ms, limit {f.instance_max_orders:,}", now)  # fmt: skip

    def _fill_trip(
        self, st: _Streams, account: str, request: OrderRequest, instance: str, now: int
    ) -> Trip | None:
        r = self.fill_ratio
        assert r is not None
        filled = st.fills.sum(now)
        if r.min_orders < r.max_ratio * max(filled, 1):
            return None
        return Trip("order_to_fill", _ACCOUNT, account,
                    f"{r.min_orders} orders and {filled} fills for account {account} on "
                    f"{instance} within {r.window_ms:,} ms: ratio over {r.max_ratio:g} (last "
                    f"strategy {request.strategy})", now)  # fmt: skip

    def _storm(
        self, st: _Streams, account: str, code: object, instance: str, now: int
    ) -> Trip | None:
        s = self.storm
        assert s is not None
        edge = now - self._storm_ns
        st.rejects.append(now)
        total = _storming(st.rejects, st.orders, self._storm_n, s.share, edge)
        if total:
            return Trip("reject_storm", _ACCOUNT, account,
                        f"{len(st.rejects)} of {total} orders of account {account} refused on "
                        f"{instance} within {s.window_ms:,} ms (last: {code}): a sustained "
                        "reject storm", now)  # fmt: skip
        self._inst_rejects.append(now)
        total = _storming(self._inst_rejects, self._inst_orders, self._inst_min_rejects,
                          s.share, edge)  # fmt: skip
        if total:
            return Trip("reject_storm", _INSTANCE, instance,
                        f"{len(self._inst_rejects)} of {total} orders refused on {instance} "
                        f"within {s.window_ms:,} ms (last: {code}): a sustained reject storm",
                        now)  # fmt: skip
        return None
