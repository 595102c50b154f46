"""A seeded, deterministic simulated exchange behind the `Venue` port.

It exists so the whole order path, the Knight replay and the property tests can run
without a real venue, and so a failing run can be repeated exactly: the same market seed,
venue seed and sequence of calls give the same sequence of sink calls.

Events are queued under the venue's lock and delivered after it is released, by one
thread at a time and in the order the state changed. A sink that calls back into the venue
(say `cancel` from inside `on_fill`) therefore never re-enters itself: the new events are
delivered by the outer call as soon as the current callback returns.

It remembers every order it was sent (account, executions), so `reconcile` can answer a
restarted gateway as a real venue would; `detach` plays the gateway being down: what
happens meanwhile is not delivered, only `reconcile` tells of it.
"""

from __future__ import annotations

import random
import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

from interlock.domain.enums import TimeInForce
from interlock.domain.order import Order
from interlock.venue.base import Execution, ExecutionSink, VenueOrder, VenueStatus
from interlock.venue.market import MarketModel

_RESTING_TIFS = frozenset({TimeInForce.DAY, TimeInForce.GTC, TimeInForce.AT_THE_OPEN})


@dataclass(frozen=True, slots=True)
class _Fill:
    order_id: int
    qty: int
    price: int
    exec_id: str

    def deliver(self, sink: ExecutionSink) -> None:
        sink.on_fill(self.order_id, self.qty, self.price, self.exec_id)


@dataclass(frozen=True, slots=True)
class _Cancelled:
    order_id: int
    qty: int
    reason: str

    def deliver(self, sink: ExecutionSink) -> None:
        sink.on_cancelled(self.order_id, self.qty, self.reason)


@dataclass(frozen=True, slots=True)
class _Rejected:
    order_id: int
    reason: str

    def deliver(self, sink: ExecutionSink) -> None:
        sink.on_rejected(self.order_id, self.reason)


_Event = _Fill | _Cancelled | _Rejected


@dataclass(slots=True)
class _Seen:
    """An order this venue was sent: for `reconcile`."""

    account: str
    executions: list[Execution] = field(default_factory=list)


@dataclass(slots=True)
class _Resting:
    """The venue's own copy of a resting order; the gateway's `Order` is never mutated."""

    order_id: int
    symbol: str
    sign: int
    price: int
    leaves: int


class SimulatedVenue:
    """Fills against a `MarketModel` touch; randomness only from `random.Random(seed)`.

    - Market orders sweep: the displayed depth at the touch, then one tick worse per level,
      each deeper level holding a seeded size near the displayed depth, for at most
      `book_levels` levels (a remainder beyond them is cancelled: market orders never rest).
    - Limit orders that cross take liquidity at the touch only (never worse than the limit).
      With probability `partial_fill_ratio` part of the displayed depth is gone (a seeded
      amount), so the fill may be partial; the remainder rests (DAY, GTC, opg) or is
      cancelled (IOC). FOK fills in full or is cancelled whole.
    - Resting orders fill at their own limit price when a mid change moves the touch
      through them, best price first, sharing the depth shown at that moment.
    """

    def __init__(
        self,
        market: MarketModel,
        sink: ExecutionSink | None = None,
        seed: int = 0,
        partial_fill_ratio: float = 0.5,
        *,
        book_levels: int = 50,
    ) -> None:
        if not 0.0 <= partial_fill_ratio <= 1.0:
            raise ValueError(f"partial_fill_ratio must be in [0, 1], got {partial_fill_ratio}")
        if book_levels < 1:
            raise ValueError(f"book_levels must be >= 1, got {book_levels}")
        self._market = market
        self._sink = sink
        self._rng = random.Random(seed)
        self._partial = partial_fill_ratio
        self._levels = book_levels
        self._lock = threading.RLock()
        self._resting: dict[int, _Resting] = {}
        self._by_symbol: dict[str, dict[int, _Resting]] = {}
        self._events: deque[_Event] = deque()
        self._draining = False
        self._exec_seq = 0
        self._cancel_rejects = 0
        self._seen: dict[int, _Seen] = {}
        self._dropping = False  # detached: events are lost, as to a gateway that is down
        market.subscribe(self._on_mid)

    # -- the Venue port ----------------------------------------------------------------

    def attach(self, sink: ExecutionSink) -> None:
        """Connect the sink; events queued while none was attached are delivered now."""
        with self._lock:
            self._sink = sink
            self._dropping = False
        self._drain()

    def detach(self) -> None:
        """The gateway went away: what happens from now on (fills of resting orders, say)
        is lost to it, until a sink is attached again and asks through `reconcile`."""
        with self._lock:
            self._sink = None
            self._dropping = True
            self._events.clear()

    def reconcile(self, orders: Sequence[Order], timeout_s: float = 0.0) -> VenueStatus:
        """Every asked order as this venue has it (an order it never saw: `known` False),
        and its other orders that are open or were filled."""
        with self._lock:
            asked = {o.order_id for o in orders}
            answer = {oid: self._status(oid) for oid in asked}
            others = tuple(
                self._status(oid)
                for oid, seen in self._seen.items()
                if oid not in asked and (oid in self._resting or seen.executions)
            )
        return VenueStatus(answer, others)

    def _status(self, order_id: int) -> VenueOrder:
        seen = self._seen.get(order_id)
        if seen is None:
            return VenueOrder(order_id, known=False)
        execs = tuple(seen.executions)
        return VenueOrder(order_id, True, order_id in self._resting,
                          sum(e.qty for e in execs), execs, seen.account)  # fmt: skip

    def send(self, order: Order) -> None:
        with self._lock:
            self._accept(order)
        self._drain()

    def cancel(self, order_id: int) -> None:
        """Cancel a resting order; an unknown or finished one only counts a cancel-reject."""
        with self._lock:
            resting = self._resting.pop(order_id, None)
            if resting is None:
                self._cancel_rejects += 1
            else:
                del self._by_symbol[resting.symbol][order_id]
                self._events.append(_Cancelled(order_id, resting.leaves, "cancelled on request"))
        self._drain()

    # -- inspection ----------------------------------------------------------------------

    @property
    def cancel_rejects(self) -> int:
        """Cancels for orders not resting here: a cancel-reject is not an order reject."""
        with self._lock:
            return self._cancel_rejects

    def leaves(self, order_id: int) -> int:
        """Shares still resting for `order_id` (0 when it is not resting)."""
        with self._lock:
            resting = self._resting.get(order_id)
            return 0 if resting is None else resting.leaves

    def open_order_ids(self) -> tuple[int, ...]:
        with self._lock:
            return tuple(self._resting)

    # -- matching (callers hold the lock) ------------------------------------------------

    def _accept(self, order: Order) -> None:
        oid = order.order_id
        if order.symbol not in self._market:
            self._events.append(_Rejected(oid, "unknown symbol at venue"))
            return
        if order.qty <= 0:
            self._events.append(_Rejected(oid, f"quantity must be positive, got {order.qty}"))
            return
        if order.sign not in (1, -1):
            self._events.append(_Rejected(oid, f"sign must be +1 or -1, got {order.sign}"))
            return
        if not order.is_market and order.price <= 0:
            self._events.append(_Rejected(oid, f"limit price must be positive: {order.price}"))
            return
        if oid in self._resting:
            self._events.append(_Rejected(oid, "duplicate order id at venue"))
            return
        self._seen[oid] = _Seen(order.account)
        bid, ask, depth = self._market.quote(order.symbol)
        touch = ask if order.sign > 0 else bid
        if order.is_market:
            fills = self._sweep(order.sign, touch, depth, order.qty)
        elif order.sign * (order.price - touch) >= 0:
            fills = [(min(order.qty, self._available(depth)), touch)]
        else:
            fills = []
        filled = sum(qty for qty, _ in fills)
        if order.tif is TimeInForce.FOK and filled < order.qty:
            self._events.append(_Cancelled(oid, order.qty, "FOK not filled in full"))
            return
        for qty, price in fills:
            self._fill(oid, qty, price)
        leaves = order.qty - filled
        if leaves == 0:
            return
        if order.is_market:
            reason = f"market remainder: no liquidity within {self._levels} levels"
            self._events.append(_Cancelled(oid, leaves, reason))
        elif order.tif in _RESTING_TIFS:
            resting = _Resting(oid, order.symbol, order.sign, order.price, leaves)
            self._resting[oid] = resting
            self._by_symbol.setdefault(order.symbol, {})[oid] = resting
        else:
            self._events.append(_Cancelled(oid, leaves, "IOC remainder"))

    def _sweep(self, sign: int, touch: int, depth: int, qty: int) -> list[tuple[int, int]]:
        """Walk the book one tick per level, so a big order pays for its size."""
        fills: list[tuple[int, int]] = []
        remaining = qty
        for level in range(self._levels):
            price = touch + sign * level
            if remaining == 0 or price < 1:
                break
            size = depth if level == 0 else self._rng.randint(max(1, depth // 2), depth * 3 // 2)
            take = min(remaining, size)
            fills.append((take, price))
            remaining -= take
        return fills

    def _available(self, depth: int) -> int:
        """Shares at the touch still there: all of it, or (seeded) part when others took some."""
        if depth > 1 and self._rng.random() < self._partial:
            return self._rng.randint(1, depth - 1)
        return depth

    def _fill(self, order_id: int, qty: int, price: int) -> None:
        self._exec_seq += 1
        exec_id = f"X{self._exec_seq}"
        seen = self._seen.get(order_id)
        if seen is not None:
            seen.executions.append(Execution(exec_id, qty, price))
        self._events.append(_Fill(order_id, qty, price, exec_id))

    def _on_mid(self, symbol: str, mid: int) -> None:
        """Market listener: fill resting orders the new touch has moved through."""
        with self._lock:
            book = self._by_symbol.get(symbol)
            if book:
                self._match_resting(symbol, book)
        self._drain()

    def _match_resting(self, symbol: str, book: dict[int, _Resting]) -> None:
        bid, ask, depth = self._market.quote(symbol)
        budget = {1: depth, -1: depth}
        # Best price first on each side; sorted() is stable, so time priority within a price.
        for resting in sorted(book.values(), key=lambda r: -r.sign * r.price):
            touch = ask if resting.sign > 0 else bid
            if resting.sign * (resting.price - touch) < 0 or budget[resting.sign] == 0:
                continue
            take = min(resting.leaves, self._available(budget[resting.sign]))
            budget[resting.sign] -= take
            resting.leaves -= take
            self._fill(resting.order_id, take, resting.price)
            if resting.leaves == 0:
                del book[resting.order_id]
                del self._resting[resting.order_id]

    # -- delivery ------------------------------------------------------------------------

    def _drain(self) -> None:
        """Deliver queued events in order, without the lock, from one thread at a time."""
        with self._lock:
            if self._dropping:
                self._events.clear()
            if self._draining or self._sink is None:
                return
            self._draining = True
        try:
            while True:
                with self._lock:
                    sink = self._sink
                    if sink is None or not self._events:
                        self._draining = False
                        return
                    event = self._events.popleft()
                event.deliver(sink)
        except BaseException:
            with self._lock:
                self._draining = False
            raise
