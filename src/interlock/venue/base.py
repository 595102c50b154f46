"""Ports between the gateway and a venue: orders out, execution events back."""

from __future__ import annotations

from typing import Protocol

from interlock.domain.order import Order


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
