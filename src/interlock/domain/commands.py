"""What callers ask of Interlock. These are edge types: prices are Decimal here.

The gateway decodes an `OrderRequest` into an integer `Order` (step 1 of the order path);
nothing past that step sees a Decimal. msgspec Structs: immutable, typed, and cheap to
build (a frozen dataclass costs ~800 ns per instance on CPython 3.11).
"""

from __future__ import annotations

from decimal import Decimal

import msgspec

from interlock.domain.enums import OrderType, Side, TimeInForce, TradingSession


class OrderRequest(msgspec.Struct, frozen=True, gc=False, array_like=True):
    """A new order as a transport hands it over, before any validation.

    `session` is at most the caller's expectation: the order is judged in the session of
    the server's trading calendar, and a label that disagrees with it is refused
    (SESSION_MISMATCH). Journals written before it was optional hold a label: still read.
    """

    client_order_id: str
    account: str
    strategy: str
    symbol: str
    side: Side
    quantity: int
    order_type: OrderType = OrderType.LIMIT
    limit_price: Decimal | None = None
    time_in_force: TimeInForce = TimeInForce.DAY
    session: TradingSession | None = None  # None: the server's calendar decides
    parent_id: str | None = None
    idempotency_key: str | None = None

    def same_payload(self, other: OrderRequest) -> bool:
        """True when `other` asks for exactly the same order (the key itself aside)."""
        return (
            self.client_order_id == other.client_order_id
            and self.account == other.account
            and self.strategy == other.strategy
            and self.symbol == other.symbol
            and self.side == other.side
            and self.quantity == other.quantity
            and self.order_type == other.order_type
            and self.limit_price == other.limit_price
            and self.time_in_force == other.time_in_force
            and self.session == other.session
            and self.parent_id == other.parent_id
        )


class ParentOrder(msgspec.Struct, frozen=True, gc=False, array_like=True):
    """A parent (for example a customer order) whose children Interlock will see.

    Children name it by `parent_id`; together they may never exceed `quantity`
    (invariant 5). A child naming an undeclared parent has a parent of zero shares.
    """

    parent_id: str
    account: str
    symbol: str
    side: Side
    quantity: int
