"""The decoded, integer form of an order: what the risk checks judge and the book tracks."""

from __future__ import annotations

import msgspec

from interlock.domain.enums import OrderStatus, Side, TimeInForce, TradingSession
from interlock.domain.instrument import Instrument


class Order(msgspec.Struct, eq=False, gc=False):
    """One order inside Interlock. Mutable only in `leaves`, `filled`, `filled_value`,
    `status`, `seq`.

    A msgspec Struct (not a dataclass) because one is built per order: ~4x cheaper.

    `price` is the limit in ticks (0 for a market order). `value_ticks` is the price the
    order is valued at for limits and reservations: the limit itself, or for a market order
    the reference price plus the configured band. Notionals are in micros.
    `session` is the server's (checked against the caller's `label` in step 6).
    `filled_value` is the sum of qty * price (ticks) over its fills: the average fill price
    is `filled_value / filled` ticks (a FIX ExecutionReport's AvgPx).
    """

    order_id: int
    client_order_id: str
    account: str
    strategy: str
    symbol: str
    side: Side
    sign: int
    qty: int
    price: int
    value_ticks: int
    is_market: bool
    tif: TimeInForce
    session: TradingSession | None  # the server calendar's at decision time; None: closed
    parent_id: str | None
    instrument: Instrument
    principal: str
    ts: int
    notional: int = 0
    leaves: int = 0
    filled: int = 0
    status: OrderStatus = OrderStatus.PENDING
    seq: int = 0
    label: TradingSession | None = None  # the caller's session label, if it gave one
    filled_value: int = 0  # sum of qty * price in ticks over the fills

    @property
    def open_notional(self) -> int:
        """Money still reserved for the unfilled part, in micros."""
        return self.leaves * self.value_ticks * self.instrument.tick_micros
