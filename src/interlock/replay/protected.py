"""A protected run: the same eight routers behind eight real Interlock gateways.

Every child order the routers make goes through `Gateway.submit`, one by one, and what is
accepted is journaled, released and filled by the exchange, which reports back through
the gateway to the router and the monitors. When a whole 100 ms cycle brings nothing but
refusals from a stopped instance (HALTED, or the fleet gate's codes) and no order was
accepted, nothing can change before the next scenario event (the fix or the stop), because
only a control-plane event lifts a halt or a fence: the run then counts the children the
routers would send until that event without building or submitting them
(`Router.skip`), and carries on from there. docs/replay.md lists what is counted so.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from interlock.domain.clock import ManualClock
from interlock.domain.commands import OrderRequest, ParentOrder
from interlock.domain.enums import OrderType, TimeInForce, TradingSession
from interlock.domain.order import Order
from interlock.domain.reject import RejectCode
from interlock.observe import STOPPED, PreOpenGate, Readiness
from interlock.replay.deploys import Deploys
from interlock.replay.exchange import Exchange
from interlock.replay.flags import INTERLOCK_MANIFESTS, knight_flags
from interlock.replay.fleet import ReplayFleet
from interlock.replay.market import KnightMarket
from interlock.replay.runs import (
    ACCOUNT,
    API_KEY,
    STRATEGY,
    RunSpec,
    disabled_for,
    replay_config,
)
from interlock.replay.scenario import NS, SERVERS, STALE, Scenario
from interlock.replay.smars import Child, FlagReader, PowerPegRouter, RlpRouter, Router


@dataclass
class RunResult:
    name: str
    stale_orders_routed: int = 0
    executions: int = 0
    shares: int = 0
    peak_gross_usd: float = 0.0
    loss_usd: float = 0.0
    halt_after_s: float | None = None  # from 09:30 to the first halt
    first_reject_code: str | None = None  # the first refusal of a Power Peg child
    first_runaway_s: float | None = None  # from 09:30 to the first child its parent did not need
    submitted: int = 0  # child orders submitted to a gateway
    counted: int = 0  # refused child orders counted, not submitted (see module doc)
    refused: Counter[str] = field(default_factory=Counter)
    halts: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    readiness: Readiness | None = None
    curve: list[tuple[float, int, float]] = field(default_factory=list)  # (s, execs, loss)

    @property
    def halt_after_runaway_s(self) -> float | None:
        if self.halt_after_s is None or self.first_runaway_s is None:
            return None
        return self.halt_after_s - self.first_runaway_s


class ProtectedRun:
    def __init__(self, scenario: Scenario, market: KnightMarket, spec: RunSpec) -> None:
        self.sc = scenario
        self.spec = spec
        self.clock = ManualClock(scenario.deploy_at)
        self.exchange = Exchange(scenario, market, f"knight-exchange-{scenario.seed}-{spec.name}")
        self.result = RunResult(spec.name)
        params = market.params
        self.iv = params.child_interval_ms * 1_000_000
        self.child_qty = params.child_qty
        self.gate = PreOpenGate(lambda page: None)
        manifests = INTERLOCK_MANIFESTS if spec.fleet_gate else None
        self.deploys = Deploys(scenario, self.clock, self.result.notes, interlock=spec.fleet_gate)
        self.fleet = ReplayFleet(
            replay_config(scenario.symbols, spec.loss_halt, market.adv_shares()), self.clock,
            self.exchange,
            self._done, build=PowerPegRouter.build, disabled_checks=disabled_for(spec),
            manifests=manifests, setup=self.deploys.setup,
        )  # fmt: skip
        self.routers: dict[str, Router] = {}
        self.epoch: Counter[str] = Counter()
        self.last_code: dict[str, str] = {}

    # -- the routers --------------------------------------------------------------------

    def _router(self, server: str) -> Router:
        build = self.fleet.builds[server]
        cls = PowerPegRouter if build == PowerPegRouter.build else RlpRouter
        flags: Callable[[], FlagReader]
        if self.spec.fleet_gate and cls is RlpRouter:
            flags = lambda: self.fleet[server].flags  # noqa: E731 - Interlock's, from the plane
        else:  # Knight's reused bit; a stale binary reads it locally even under Interlock
            local = knight_flags(cls.build)
            flags = lambda: local  # noqa: E731
        self.epoch[server] += 1
        return cls(server, flags, lambda ts, text: self.gate.warn(ts, server, text),
                   interval_ns=self.iv, child_qty=self.child_qty)  # fmt: skip

    def _done(self, server: str, child: Child, order: Order, filled: int) -> None:
        self.routers[server].done(child, filled)

    # -- the day ----------------------------------------------------------------------------

    def run(self) -> RunResult:
        sc, r = self.sc, self.result
        self.deploys.deploy(self.fleet)
        self.routers = {s: self._router(s) for s in SERVERS}
        for n, ts in enumerate(sc.warning_times):
            self._advance(ts)
            self.routers[STALE].preopen(f"PM{n + 1:03d}", sc.symbols[n % len(sc.symbols)], ts)
        self._advance(sc.open_at - NS)
        for p in sc.parents:
            parent = ParentOrder(p.parent_id, ACCOUNT, p.symbol, p.side, p.quantity)
            refusal = self.fleet[p.server].declare_parent(parent, API_KEY)
            assert refusal is None, refusal
            self.routers[p.server].accept(p)
        self._advance(sc.open_at)
        self.fleet.refresh()
        r.readiness = self.gate.check(sc.open_at)
        for router in self.routers.values():
            router.open(sc.open_at)
        now, fixed = sc.open_at, False
        while now < sc.stop_at:
            if not fixed and now >= sc.fix_at:
                self.deploys.fix(self.fleet)
                for server in SERVERS:
                    if self.fleet.builds[server] != self.routers[server].build:
                        self.routers[server] = self._router(server)
                        self.routers[server].recover(sc.parents_on(server), now)
                fixed = True
            self.clock.now = now
            if (now - sc.open_at) % NS == 0:
                self.fleet.heartbeat()
                self.fleet.refresh()
                self._sample(now)
            stuck = self._cycle(now)
            target = sc.stop_at if fixed else sc.fix_at
            if stuck and target - now > self.iv:
                self._sample(now + self.iv)
                self._skip(now, target)
                self._advance(target - self.iv)
                now = target
                continue
            now += self.iv
        self.clock.now = sc.stop_at
        self._sample(sc.stop_at)
        return self._finish()

    def _cycle(self, now: int) -> bool:
        """One 100 ms cycle on every server; True if nothing but stopped refusals came."""
        r, ex, stuck = self.result, self.exchange, True
        for server in SERVERS:
            gw, port = self.fleet[server], self.fleet.ports[server]
            for child in self.routers[server].tick(now):
                if r.first_runaway_s is None and (
                    ex.parent_filled[child.parent_id] >= ex.parent_qty[child.parent_id]
                ):
                    r.first_runaway_s = (now - self.sc.open_at) / NS
                cents = round(ex.quote(child.symbol, child.side.sign, now) * 100)
                request = OrderRequest(
                    f"{child.parent_id}.{server}.{self.epoch[server]}.{child.n}", ACCOUNT,
                    STRATEGY, child.symbol, child.side, child.quantity, OrderType.LIMIT,
                    Decimal(cents).scaleb(-2), TimeInForce.IOC, TradingSession.CONTINUOUS,
                    child.parent_id,
                )  # fmt: skip
                decision = gw.submit(request, API_KEY)
                r.submitted += 1
                if decision.order_id is not None:
                    port.children[decision.order_id] = child
                    stuck = False
                else:
                    code = decision.code or RejectCode.SCHEMA_INVALID
                    r.refused[code.value] += 1
                    if child.algo == "power_peg":  # the runaway's first refusal
                        r.first_reject_code = r.first_reject_code or code.value
                    self.last_code[server] = code.value
                    stuck &= code in STOPPED
                    self.routers[server].done(child, 0)
            self.fleet.journals[server].flush()
        ex.gross()
        return stuck

    def _skip(self, now: int, target: int) -> None:
        cycles = (target - now) // self.iv - 1
        for server, router in self.routers.items():
            n = router.skip(target, cycles)
            if n:
                self.result.refused[self.last_code[server]] += n
                self.result.counted += n

    def _advance(self, to: int) -> None:
        """Let time pass to `to`, renewing every lease on the way (TTL 2 s)."""
        step = NS
        while self.clock.now < to:
            self.clock.now = min(to, self.clock.now + step)
            self.fleet.heartbeat()

    def _sample(self, now: int) -> None:
        ex = self.exchange
        self.result.curve.append(((now - self.sc.open_at) / NS, ex.executions, ex.loss()))

    def _finish(self) -> RunResult:
        r, ex = self.result, self.exchange
        r.stale_orders_routed = ex.routed[STALE]
        r.executions, r.shares = ex.executions, ex.shares
        r.peak_gross_usd = ex.peak_gross
        r.loss_usd = ex.loss()
        if self.fleet.halts:
            ts, what = self.fleet.halts[0]
            r.halt_after_s = (ts - self.sc.open_at) / NS
            r.notes.append(f"first halt: {what}")
        trips = self.fleet.trip_reports()
        r.halts += [str(report) for _, report in trips]
        r.notes += [f"trip: {t.detector} at {(t.ts - self.sc.open_at) / NS:.1f} s"
                    for t, _ in trips]  # fmt: skip
        self.fleet.close()
        return r


def run_protected(scenario: Scenario, market: KnightMarket, spec: RunSpec) -> RunResult:
    return ProtectedRun(scenario, market, spec).run()
