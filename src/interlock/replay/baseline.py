"""The baseline: the router code with no interlock, in an aggregated market simulation.

The routers are the real SMARS builds (`replay.smars`); what is aggregated is only the
market's side of Power Peg's children. A Power Peg parent sends one child per 100 ms
cycle whatever happens to it, so the number of children per stock per second is a closed
form of the router's own loop (`PowerPeg.children_in`). Each child fills in full with
probability `fill_prob` (a binomial draw per stock per second: the same law as one draw per
child), at the touch plus the temporary impact of the stock's trading rate over the
previous second, and each share moves the mid by the permanent impact. Permanent impact is
linear in shares, so pricing a second's fills at the average of the mid before and after
them is exact; the only difference from a child-by-child run is the rounding of a second's
average price to the cent. The 212 RLP parents on the good servers before the fix are few:
they run child by child through the router.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from interlock.replay.flags import knight_flags
from interlock.replay.market import Array, IntArray, KnightMarket
from interlock.replay.scenario import NS, SERVERS, STALE, Scenario
from interlock.replay.smars import FlagReader, PowerPegRouter, RlpRouter, Route, Router

Progress = Callable[[float], None]  # fraction done, 0..1


@dataclass(frozen=True)
class BaselineResult:
    servers: int
    stale_servers: int
    servers_running_power_peg_after_fix: int
    parent_orders: int  # parents Power Peg worked
    preopen_warnings: int
    first_warning: int
    runaway_minutes: float
    child_orders: int
    executions: int
    shares: int
    symbols: int
    long_symbols: int
    short_symbols: int
    net_long_usd: float
    net_short_usd: float
    loss_usd: float
    moved_5pct: int  # stocks whose mid moved more than 5% (SEC ¶18: 75)
    moved_10pct: int  # ... more than 10% (SEC ¶18: 37 of the 75)
    seconds: Array  # after the open, one per second
    cum_executions: Array
    loss_curve: Array  # loss if everything stopped and was liquidated at that second
    position_usd: Array  # Knight's end position by symbol, at what it cost
    server_children: IntArray = field(  # Power Peg children per server (SERVERS) per second
        default_factory=lambda: np.zeros((0, 0), dtype=np.int64)
    )


def routers_for_the_open(
    scenario: Scenario, warnings: list[tuple[int, str]], params_interval: int, child_qty: int
) -> dict[str, Router]:
    """Eight routers as the deploy left them: seven on the RLP build, gw-8 on the old one,
    every one reading Knight's reused flag bit."""

    def warn(ts: int, text: str) -> None:
        warnings.append((ts, text))

    routers: dict[str, Router] = {}
    for server in SERVERS:
        cls = PowerPegRouter if server == STALE else RlpRouter
        routers[server] = cls(server, _reader(knight_flags(cls.build)), warn,
                              interval_ns=params_interval, child_qty=child_qty)  # fmt: skip
    return routers


def _reader(flags: FlagReader) -> Callable[[], FlagReader]:
    return lambda: flags


def preopen(scenario: Scenario, routers: dict[str, Router]) -> None:
    """The pre-market RLP orders that reached gw-8, then the parents for the open."""
    for n, ts in enumerate(scenario.warning_times):
        symbol = scenario.symbols[n % len(scenario.symbols)]
        routers[STALE].preopen(f"PM{n + 1:03d}", symbol, ts)
    for parent in scenario.parents:
        routers[parent.server].accept(parent)


def run_baseline(
    scenario: Scenario, market: KnightMarket, progress: Progress | None = None
) -> BaselineResult:
    p = market.params
    rng = np.random.default_rng([scenario.seed, 1])
    iv = p.child_interval_ms * 1_000_000
    warnings: list[tuple[int, str]] = []
    routers = routers_for_the_open(scenario, warnings, iv, p.child_qty)
    stale_servers = sum(1 for r in routers.values() if r.build != RlpRouter.build)
    preopen(scenario, routers)
    for router in routers.values():
        router.open(scenario.open_at)
    n, secs = len(market.symbols), scenario.duration_s
    extra_shares = np.zeros((n, secs))  # fills of the routed (non-Power-Peg) children
    extra_execs: IntArray = np.zeros((n, secs), dtype=np.int64)
    _route_children(scenario, market, routers, rng, extra_shares, extra_execs)
    for server in SERVERS:  # the "fix": the seven good servers go back to the old build
        if server != STALE:
            old = routers[server]
            flags = _reader(knight_flags(PowerPegRouter.build))
            routers[server] = PowerPegRouter(server, flags, old.warn, interval_ns=iv,
                                             child_qty=p.child_qty)  # fmt: skip
            routers[server].recover(scenario.parents_on(server), scenario.fix_at)
    pegs = [w for r in routers.values() for w in r.power_pegs()]
    edges = scenario.open_at + np.arange(secs + 1, dtype=np.int64) * NS
    children: IntArray = np.zeros((n, secs), dtype=np.int64)
    customer = np.zeros(n)  # shares still owed to customers whose parents Power Peg works
    by_server: IntArray = np.zeros((len(SERVERS), secs), dtype=np.int64)
    for w in pegs:
        i = market.index[w.parent.symbol]
        sent = w.children_in(edges[:-1], edges[1:])
        children[i] += sent
        by_server[SERVERS.index(w.parent.server)] += sent
        if w.parent.server == STALE:
            customer[i] += w.parent.quantity  # the first fills are the customer's
    first_child = min(w.start_ns for w in pegs)
    head = BaselineHead(
        servers=len(routers),
        stale=stale_servers,
        power_peg_after_fix=sum(1 for r in routers.values() if r.power_pegs()),
        parents=len({w.parent.parent_id for w in pegs}),
        warnings=warnings,
        runaway_minutes=(scenario.stop_at - first_child) / NS / 60,
    )
    result = _simulate(scenario, market, rng, children, customer, extra_shares, extra_execs,
                       head, progress)  # fmt: skip
    return replace(result, server_children=by_server)


@dataclass(frozen=True)
class BaselineHead:
    servers: int
    stale: int
    power_peg_after_fix: int
    parents: int
    warnings: list[tuple[int, str]]
    runaway_minutes: float


def _route_children(
    scenario: Scenario,
    market: KnightMarket,
    routers: dict[str, Router],
    rng: np.random.Generator,
    shares: Array,
    execs: IntArray,
) -> None:
    """The good servers' parents before the fix, child by child through the router."""
    iv = market.params.child_interval_ms * 1_000_000
    now = scenario.open_at
    while now < scenario.fix_at:
        pending = False
        for server, router in routers.items():
            if server == STALE:
                continue
            for child in router.tick(now):
                filled = child.quantity if rng.random() < market.params.fill_prob else 0
                router.done(child, filled)
                if filled:
                    i, sec = market.index[child.symbol], (now - scenario.open_at) // NS
                    shares[i, sec] += filled
                    execs[i, sec] += 1
            pending |= any(isinstance(w, Route) and w.remaining > 0
                           for w in router.workers.values())  # fmt: skip
        if not pending:
            return
        now += iv


def _simulate(
    scenario: Scenario,
    market: KnightMarket,
    rng: np.random.Generator,
    children: IntArray,
    customer: Array,
    extra_shares: Array,
    extra_execs: IntArray,
    head: BaselineHead,
    progress: Progress | None,
) -> BaselineResult:
    p = market.params
    n, secs = children.shape
    side = market.sign
    q = np.zeros(n)  # Knight's signed cumulative executed shares: what moves the mid
    pos = np.zeros(n)  # what Knight owns (beyond the customers' parents)
    cash = np.zeros(n)  # Knight's own cash flows, by stock (what it paid or received)
    rate = np.zeros(n)
    peak = np.zeros(n)
    traded = np.zeros(n)
    cum_exec = np.zeros(secs)
    loss = np.zeros(secs)
    executions = 0
    for t in range(secs):
        fills = rng.binomial(children[:, t], p.fill_prob)
        peg_shares = fills * float(p.child_qty)
        total = peg_shares + extra_shares[:, t]
        before = market.mids(q)
        q = q + side * total
        after = market.mids(q)
        price = market.take_prices((before + after) / 2, side, rate)
        rate = total  # shares in this second: the rate the next second is priced at
        owed = np.minimum(peg_shares, customer)
        customer -= owed
        own = peg_shares - owed
        pos += side * own
        cash -= side * own * price
        traded += total
        peak = np.maximum(peak, np.abs(after / market.p0 - 1.0))
        executions += int(fills.sum() + extra_execs[:, t].sum())
        cum_exec[t] = executions
        loss[t] = -float(cash.sum() + market.liquidation_values(pos, q).sum())
        if progress is not None and t % 60 == 0:
            progress(t / secs)
    value = -cash  # what the position cost: paid for the longs, received for the shorts
    return BaselineResult(
        servers=head.servers,
        stale_servers=head.stale,
        servers_running_power_peg_after_fix=head.power_peg_after_fix,
        parent_orders=head.parents,
        preopen_warnings=len(head.warnings),
        first_warning=min(ts for ts, _ in head.warnings),
        runaway_minutes=head.runaway_minutes,
        child_orders=int(children.sum()),
        executions=executions,
        shares=int(traded.sum()),
        symbols=int((traded > 0).sum()),
        long_symbols=int((pos > 0).sum()),
        short_symbols=int((pos < 0).sum()),
        net_long_usd=float(value[value > 0].sum()),
        net_short_usd=float(-value[value < 0].sum()),
        loss_usd=float(loss[-1]) if secs else 0.0,
        moved_5pct=int((peak > 0.05).sum()),
        moved_10pct=int((peak > 0.10).sum()),
        seconds=np.arange(1, secs + 1, dtype=np.float64),
        cum_executions=cum_exec,
        loss_curve=loss,
        position_usd=value,
    )
