"""Runaways nobody scripted, and the desk flows that must never trip: driven through the
same instance builder `interlock serve` uses, on a manual clock, into a simulated venue
that fills.

A `Flow` is a program of orders: at each of its ticks it may send some orders. `drive`
runs one against a `Harness` (testing.build: `build_instance` with the given config) and
records what a risk officer would ask afterwards: when it was halted, how much it got out,
its worst gross exposure, its loss. Everything is seeded; nothing sleeps.

Simulation only: production code never imports this package.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from interlock.api.config import ServeConfig, load_config, parse_config
from interlock.domain.clock import ManualClock
from interlock.domain.commands import OrderRequest
from interlock.domain.enums import OrderType, Side, TimeInForce
from interlock.gateway.config import GatewayConfig
from interlock.sim.harness import DESK_KEY, MM_KEY, START_NS, Harness, build

NS = 1_000_000_000
ACCOUNTS = {"desk-7": DESK_KEY, "mm-1": MM_KEY}
STRATEGY = {"desk-7": "vwap", "mm-1": "mm"}


def desk_config(symbols: int = 200) -> ServeConfig:
    """The shipped default config, with `symbols` more listed instruments (S000...): the
    limits, envelopes and monitors are exactly the shipped ones (each new symbol with an ADV of
    10 M shares, and easy to borrow)."""
    data = load_config().model_dump(mode="json")
    more = [f"S{i:03d}" for i in range(symbols)]
    data["instruments"].update({s: {"tick_size": "0.01"} for s in more})
    data["limits"]["adv"]["shares"].update(dict.fromkeys(more, 10_000_000))
    data["limits"]["short_sale"]["easy_to_borrow"] += more
    return parse_config(data, "shipped config with more instruments")


@dataclass(frozen=True)
class Order:
    account: str
    strategy: str
    symbol: str
    side: Side
    qty: int
    market: bool
    offset_ticks: int = 0  # limit price: the touch it crosses, plus this many ticks through
    tif: TimeInForce = TimeInForce.IOC
    cancel_after_s: float | None = None  # a quote: cancelled after this long if still open


class Flow:
    """Orders over time. `tick(n, now_s)` yields the orders of step n (at `now_s`)."""

    name = "flow"
    step_s = 0.01
    start_offset_s = 0.0  # from testing.START_NS (10:00 New York, continuous trading)

    def ticks(self) -> int:
        raise NotImplementedError

    def tick(self, n: int, now_s: float) -> Iterator[Order]:
        raise NotImplementedError


@dataclass
class Runaway(Flow):
    """A loop that no longer looks at what it got back."""

    name: str = "runaway"
    pace: float = 500.0  # orders per second, per account
    symbols: int = 150  # spread over this many symbols (1 = concentrated)
    sides: str = "alternate"  # alternate | buy | sell | random
    qty: int = 100
    vary_qty: bool = False
    market: bool = True
    new_strategy_each_order: bool = False
    accounts: tuple[str, ...] = ("desk-7",)
    max_orders: int = 12_000
    seed: int = 1
    _rng: random.Random = field(init=False, repr=False)
    _n: int = field(default=0, init=False, repr=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self.step_s = max(0.01, 1 / self.pace)  # one order a step, or several every 10 ms

    def ticks(self) -> int:
        return int(self.max_orders / (self.pace * len(self.accounts)) / self.step_s) + 1

    def tick(self, n: int, now_s: float) -> Iterator[Order]:
        due = int((n + 1) * self.step_s * self.pace) - int(n * self.step_s * self.pace)
        for _ in range(due):
            for account in self.accounts:
                self._n += 1
                k, rng = self._n, self._rng
                if self.sides == "alternate":
                    side = Side.BUY if k % 2 else Side.SELL
                elif self.sides == "random":
                    side = rng.choice((Side.BUY, Side.SELL))
                else:
                    side = Side(self.sides)
                qty = self.qty if not self.vary_qty else max(1, rng.randint(self.qty // 2,
                                                                         self.qty * 2))  # fmt: skip
                strategy = f"loop-{k}" if self.new_strategy_each_order else STRATEGY[account]
                symbol = f"S{k % self.symbols:03d}"
                yield Order(account, strategy, symbol, side, qty, self.market, offset_ticks=1)


@dataclass
class Result:
    name: str
    orders: int = 0
    accepted: int = 0
    refused: dict[str, int] = field(default_factory=dict)
    first_refusals: dict[str, str] = field(default_factory=dict)  # code -> its first message
    halted_at_s: float | None = None
    halts: list[str] = field(default_factory=list)
    peak_gross_usd: float = 0.0  # the worst account's
    loss_usd: float = 0.0  # the worst account's
    traded_usd: float = 0.0  # every account's together
    by_account: dict[str, dict[str, float]] = field(default_factory=dict)  # peak gross, ...
    refused_in_a_row: dict[str, int] = field(default_factory=dict)  # risk-increasing, at the end
    duration_s: float = 0.0

    @property
    def last_increasing_refused(self) -> int:
        return min(self.refused_in_a_row.values(), default=0)

    @property
    def stopped(self) -> bool:
        """Halted, or refusing every risk-increasing order of every account it trades (the
        last 50 of each at least)."""
        return self.halted_at_s is not None or self.last_increasing_refused >= 50

    def row(self) -> dict[str, Any]:
        return {
            "shape": self.name,
            "orders": self.orders,
            "accepted": self.accepted,
            "halt_s": self.halted_at_s,
            "gross_at_halt_usd": round(self.peak_gross_usd, 2),
            "loss_usd": round(self.loss_usd, 2),
            "traded_usd": round(self.traded_usd, 2),
            "halts": self.halts,
            "refused": dict(sorted(self.refused.items())),
        }


def harness(config: GatewayConfig | None = None, *, seed: int = 7,
            disabled: tuple[str, ...] = ()) -> Harness:  # fmt: skip
    return build(config or desk_config(), clock=ManualClock(START_NS), seed=seed,
                 volatility_ticks=1, depth=2_000, disabled_checks=disabled)  # fmt: skip


def drive(flow: Flow, h: Harness, *, until_stopped: bool = True) -> Result:
    """Run `flow` on `h` until it ends, or (by default) until it is stopped: halted, or
    refusing every risk-increasing order."""
    clock = h.clock
    assert isinstance(clock, ManualClock)
    clock.now += int(flow.start_offset_s * NS)
    gw, market, start = h.gateway, h.market, clock.now
    r = Result(flow.name)
    step_ns = int(flow.step_s * NS)
    quotes: list[tuple[int, int]] = []  # (cancel at ns, order id)
    next_move = next_refresh = start
    seen_halts = 0
    for n in range(flow.ticks()):
        now = start + n * step_ns
        clock.now = now
        if now >= next_move:  # the market moves every second; the feed follows it
            market.step()
            next_move += NS
        if now >= next_refresh:
            h.refresh_references()
            gw.heartbeat()
            next_refresh += NS
        while quotes and quotes[0][0] <= now:
            _, oid = quotes.pop(0)
            live = gw.order(oid)
            if live is not None and live.status.is_open:
                gw.cancel(oid, ACCOUNTS[live.account], "re-quote")
        for o in flow.tick(n, (now - start) / NS):
            d = gw.submit(_request(h, o, r.orders), ACCOUNTS[o.account])
            r.orders += 1
            increasing = _increases(h, o)
            streak = r.refused_in_a_row.setdefault(o.account, 0)
            if d.accepted:
                r.accepted += 1
                if increasing:
                    r.refused_in_a_row[o.account] = 0
                if o.cancel_after_s is not None and d.order_id is not None:
                    quotes.append((now + int(o.cancel_after_s * NS), d.order_id))
            else:
                code = d.code.value if d.code else "?"
                if code not in r.refused:
                    r.first_refusals[code] = d.message
                r.refused[code] = r.refused.get(code, 0) + 1
                if increasing:
                    r.refused_in_a_row[o.account] = streak + 1
        h.journal.flush()  # durable: released to the venue, which fills
        halts = h.plane.halts()
        if len(halts) > seen_halts:
            for x in halts[seen_halts:]:
                r.halts.append(f"{x.scope.value}:{x.target} by {x.who}")
            seen_halts = len(halts)
            if r.halted_at_s is None:
                r.halted_at_s = (now - start) / NS
        _measure(h, r)
        if until_stopped and r.stopped:
            break
    r.duration_s = (clock.now - start) / NS
    return r


def _request(h: Harness, o: Order, n: int) -> OrderRequest:
    if o.market:
        price = None
    else:
        bid, ask, _ = h.market.quote(o.symbol)
        touch = ask + o.offset_ticks if o.side is Side.BUY else bid - o.offset_ticks
        price = h.gateway.instruments[o.symbol].to_price(max(touch, 1))
    return OrderRequest(f"{o.account}-{n}", o.account, o.strategy, o.symbol, o.side, o.qty,
                        OrderType.MARKET if o.market else OrderType.LIMIT, price,
                        o.tif)  # fmt: skip


def _increases(h: Harness, o: Order) -> bool:
    acct = h.gateway.book.accounts.get(o.account)
    p = acct.positions.get(o.symbol) if acct is not None else None
    pos = p.pos if p is not None else 0
    return abs(pos + (o.qty if o.side is Side.BUY else -o.qty)) > abs(pos)


def _measure(h: Harness, r: Result) -> None:
    traded = 0
    for name, acct in h.gateway.book.accounts.items():
        m = r.by_account.get(name)
        if m is None:
            m = r.by_account[name] = {"peak_gross_usd": 0.0, "loss_usd": 0.0, "traded_usd": 0.0}
        m["peak_gross_usd"] = max(m["peak_gross_usd"], acct.gross / 1e6)
        m["loss_usd"] = max(m["loss_usd"], -acct.pnl / 1e6)
        m["traded_usd"] = acct.executed / 1e6
        r.peak_gross_usd = max(r.peak_gross_usd, m["peak_gross_usd"])
        r.loss_usd = max(r.loss_usd, m["loss_usd"])
        traded += acct.executed
    r.traded_usd = traded / 1e6
