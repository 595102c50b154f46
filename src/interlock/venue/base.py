"""Ports between the gateway and a venue: orders out, execution events back, and what the
venue holds when the gateway starts (`reconcile`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from interlock.domain.order import Order


@dataclass(frozen=True, slots=True)
class Execution:
    """One execution as the venue keeps it: its id (the gateway's de-duplication key), the
    quantity and the price in the instrument's ticks."""

    exec_id: str
    qty: int
    price: int


@dataclass(frozen=True, slots=True)
class VenueOrder:
    """What the venue says of one order (by the gateway's order id). `known` False: the
    venue never had it. `open`: still working there. `filled`: cumulative quantity, with
    every execution behind it in `executions`. `account` as the venue has it."""

    order_id: int
    known: bool
    open: bool = False
    filled: int = 0
    executions: tuple[Execution, ...] = ()
    account: str = ""


@dataclass(frozen=True, slots=True)
class VenueStatus:
    """The venue's answer to `reconcile`: one entry per order asked about, and the orders
    it holds open (or has executions of) that were not asked about."""

    orders: Mapping[int, VenueOrder]
    others: tuple[VenueOrder, ...] = field(default=())


class ExecutionSink(Protocol):
    """Where a venue reports what happened to orders it was sent (the gateway)."""

    def on_fill(self, order_id: int, qty: int, price: int, exec_id: str) -> bool:
        """Apply a fill; False if the sink dropped it (a resend of an exec id it has taken
        before, or a fill it refuses). The sink is the one judge of duplicates."""
        ...

    def on_cancelled(self, order_id: int, qty: int, reason: str) -> None: ...

    def on_rejected(self, order_id: int, reason: str) -> None: ...


class Venue(Protocol):
    """A destination for released orders. Only durable, accepted orders reach `send`."""

    def send(self, order: Order) -> None: ...

    def cancel(self, order_id: int) -> None: ...

    def reconcile(self, orders: Sequence[Order], timeout_s: float) -> VenueStatus:
        """What the venue holds of `orders` (those the journal holds open) and which open
        orders it has beyond them; raise VenueError if it cannot say within `timeout_s`.
        Afterwards the adapter reports fills and cancels of the orders it knows to its
        sink as of any it was sent."""
        ...
