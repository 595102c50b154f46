"""The protected runs' exchange: child orders meet the replay market one at a time.

The eight gateways each send through their own `VenuePort` (the `Venue` port: order ids
are per gateway), all into one `Exchange` that holds the market state: Knight's executed
shares per stock (what moves the mid), the trading rate of the last whole second (what
prices the temporary impact), and what Knight owns beyond its customers' parents. The
formulas are `KnightMarket`'s scalar forms of the baseline's; a child is immediate or
cancel: it fills in full with probability `fill_prob` when the take price is within its
limit, else it is cancelled.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from interlock.domain.order import Order
from interlock.replay.market import KnightMarket
from interlock.replay.scenario import NS, Scenario
from interlock.replay.smars import Child
from interlock.venue.base import ExecutionSink, VenueOrder, VenueStatus

RefListener = Callable[[str, int], None]  # (symbol, mid in cents)


class Exchange:
    def __init__(self, scenario: Scenario, market: KnightMarket, seed: str) -> None:
        self.market = market
        self.open_at = scenario.open_at
        n = len(market.symbols)
        self.q = [0.0] * n  # Knight's signed cumulative executed shares
        self.pos = [0.0] * n  # Knight's own position, beyond its customers' parents
        self.cash = [0.0] * n  # Knight's own cash flows
        self._bucket = [-1] * n
        self._cur = [0.0] * n
        self._prev = [0.0] * n
        self.parent_qty = {p.parent_id: p.quantity for p in scenario.parents}
        self.parent_filled: Counter[str] = Counter()
        self.routed: Counter[str] = Counter()  # orders that reached the exchange, by server
        self.executions = 0
        self.shares = 0
        self.peak_gross = 0.0
        self.listeners: list[RefListener] = []
        self._rng = random.Random(seed)
        self._execs = 0

    def mid(self, i: int) -> float:
        return self.market.mid(i, self.q[i])

    def mid_cents(self, symbol: str) -> int:
        return max(round(self.mid(self.market.index[symbol]) * 100), 1)

    def rate(self, i: int, now: int) -> float:
        """Shares executed in the stock in the last whole second before `now`."""
        b = (now - self.open_at) // NS
        if b == self._bucket[i]:
            return self._prev[i]
        return self._cur[i] if b == self._bucket[i] + 1 else 0.0

    def quote(self, symbol: str, sign: int, now: int) -> float:
        """The price a marketable child takes at now: touch plus temporary impact."""
        i = self.market.index[symbol]
        return self.market.take_price(i, self.mid(i), sign, self.rate(i, now))

    def execute(self, server: str, order: Order, now: int) -> tuple[int, int]:
        """Match one IOC child: (shares filled, price in cents); (0, 0) when it misses."""
        self.routed[server] += 1
        i = self.market.index[order.symbol]
        sign = order.sign
        price = self.market.take_price(i, self.mid(i), sign, self.rate(i, now))
        cents = round(price * 100)
        if self._rng.random() >= self.market.params.fill_prob or sign * (cents - order.price) > 0:
            return 0, 0
        qty = order.qty
        b = (now - self.open_at) // NS
        if b != self._bucket[i]:
            self._prev[i] = self._cur[i] if b == self._bucket[i] + 1 else 0.0
            self._cur[i] = 0.0
            self._bucket[i] = b
        self._cur[i] += qty
        self.q[i] += sign * qty
        pid = order.parent_id or ""
        owed = max(self.parent_qty.get(pid, 0) - self.parent_filled[pid], 0)
        self.parent_filled[pid] += qty
        own = qty - min(qty, owed)
        self.pos[i] += sign * own
        self.cash[i] -= sign * own * price
        self.executions += 1
        self.shares += qty
        mid = self.mid_cents(order.symbol)
        for listener in self.listeners:
            listener(order.symbol, mid)
        return qty, cents

    def loss(self) -> float:
        """The loss if everything stopped now and the position went to a dealer."""
        pos, q = np.array(self.pos), np.array(self.q)
        return -float(sum(self.cash) + self.market.liquidation_values(pos, q).sum())

    def gross(self) -> float:
        g = float(np.sum(np.abs(np.array(self.pos)) * self.market.mids(np.array(self.q))))
        self.peak_gross = max(self.peak_gross, g)
        return g

    def next_exec_id(self) -> str:
        self._execs += 1
        return f"E{self._execs}"


@dataclass
class VenuePort:
    """One gateway's connection to the exchange. After the gateway hears of a fill or a
    cancel, the router and the monitors hear of it too (`on_done`)."""

    server: str
    exchange: Exchange
    clock: Callable[[], int]
    on_done: Callable[[str, Child, Order, int], None]
    sink: ExecutionSink | None = None
    children: dict[int, Child] = field(default_factory=dict)

    def send(self, order: Order) -> None:
        assert self.sink is not None, "attach the gateway first"
        qty, cents = self.exchange.execute(self.server, order, self.clock())
        if qty:
            self.sink.on_fill(order.order_id, qty, cents, self.exchange.next_exec_id())
        else:
            self.sink.on_cancelled(order.order_id, order.qty, "IOC: nothing at the limit")
        child = self.children.pop(order.order_id, None)
        if child is not None:
            self.on_done(self.server, child, order, qty)

    def reconcile(self, orders: Sequence[Order], timeout_s: float = 0.0) -> VenueStatus:
        """Children are immediate-or-cancel and each one's fate is told as it is sent:
        nothing rests here, so no order a journal holds open is known."""
        return VenueStatus({o.order_id: VenueOrder(o.order_id, known=False) for o in orders})

    def cancel(self, order_id: int) -> None:
        """Children are immediate-or-cancel: nothing ever rests here to cancel."""
