"""A simulated venue a test can script: executions it chooses, orders it refuses, cancels
it holds in flight.

`SimulatedVenue` fills only as its market moves and answers a cancel at once. A stateful
test of the whole gateway also needs what a real venue does on its own: a counterparty
taking part or all of a resting order (`execute`), an exchange refusing new orders in a
symbol (`refuse`), and a cancel still on its way when a fill crosses it (`hold_cancels`,
then `execute`: a late fill after the cancel request, then `release_cancels`, which
cancels what is left or counts a cancel-reject for an order filled meanwhile).

Everything else (matching, delivery in order outside the lock, `reconcile`) is the
simulated venue's own, so the scripted events reach the gateway exactly as its fills do.
"""

from __future__ import annotations

from interlock.domain.order import Order
from interlock.venue.base import ExecutionSink
from interlock.venue.market import MarketModel
from interlock.venue.simulated import SimulatedVenue, _Rejected


class ScriptedVenue(SimulatedVenue):
    """`SimulatedVenue` plus `execute`, `refuse` and held cancels (see the module doc)."""

    def __init__(
        self,
        market: MarketModel,
        sink: ExecutionSink | None = None,
        seed: int = 0,
        partial_fill_ratio: float = 0.5,
        *,
        book_levels: int = 50,
    ) -> None:
        super().__init__(market, sink, seed, partial_fill_ratio, book_levels=book_levels)
        self.refused: set[str] = set()  # symbols whose new orders the venue rejects
        self.holding = False  # cancels wait in `held` until `release_cancels`
        self.held: list[int] = []  # cancels received and not yet acted on, oldest first
        self.cancels_received: list[int] = []  # every cancel request, in arrival order

    def refuse(self, symbol: str, refused: bool = True) -> None:
        """Reject (or accept again) new orders in `symbol`, as an exchange halting it does."""
        with self._lock:
            (self.refused.add if refused else self.refused.discard)(symbol)

    def send(self, order: Order) -> None:
        with self._lock:
            refused = order.symbol in self.refused
            if refused:
                self._events.append(_Rejected(order.order_id, f"{order.symbol} halted at venue"))
        if refused:
            self._drain()
            return
        super().send(order)

    def cancel(self, order_id: int) -> None:
        with self._lock:
            self.cancels_received.append(order_id)
            if self.holding:
                self.held.append(order_id)
                return
        super().cancel(order_id)

    def hold_cancels(self) -> None:
        """From now on cancels are received but not acted on (they are in flight)."""
        with self._lock:
            self.holding = True

    def release_cancels(self) -> int:
        """Act on the held cancels, oldest first, and stop holding; how many there were."""
        with self._lock:
            due, self.held, self.holding = self.held, [], False
        for order_id in due:
            super().cancel(order_id)
        return len(due)

    def execute(self, order_id: int, qty: int) -> int:
        """A counterparty takes up to `qty` shares of a resting order at its limit price;
        the shares filled (0: the order is not resting here)."""
        with self._lock:
            resting = self._resting.get(order_id)
            if resting is None or qty <= 0:
                return 0
            take = min(qty, resting.leaves)
            resting.leaves -= take
            self._fill(order_id, take, resting.price)
            if resting.leaves == 0:
                del self._resting[order_id]
                del self._by_symbol[resting.symbol][order_id]
        self._drain()
        return take
