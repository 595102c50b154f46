"""The REST wire models (pydantic v2): what callers send and what they get back.

Prices travel as decimal strings ("187.25"), never JSON numbers: a float cannot hold most
prices exactly, and the gateway wants the exact Decimal the caller meant. Unknown fields
are refused, as in the config: a typo in an order must not be silently dropped.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from interlock.api.readiness_view import ReadinessView
from interlock.domain.enums import OrderType, Side, TimeInForce, TradingSession
from interlock.domain.order import Order
from interlock.domain.reject import RejectCode
from interlock.gateway.decode import MAX_QUANTITY

DECIMAL = r"^[0-9]{1,18}(\.[0-9]{1,18})?$"


def _printable(value: str) -> str:
    """No control characters (C0, DEL, C1) or separators: an id is shown on terminals and
    written to logs, where "\x1b[2J" or "\n" would rewrite what an operator reads."""
    if not value.isprintable():
        raise ValueError("must be printable text, without control characters")
    return value


Printable = Annotated[str, AfterValidator(_printable)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


_ORDER_SCHEMA: JsonDict = {
    # published so that a schema-valid order is never refused for its price's presence:
    # a market order carries no limit price, a limit order (the default type) needs one
    "if": {"required": ["order_type"], "properties": {"order_type": {"const": "market"}}},
    "then": {"properties": {"limit_price": {"type": "null"}}},
    "else": {"required": ["limit_price"], "properties": {"limit_price": {"type": "string"}}},
    "examples": [
        {
            "client_order_id": "ord-1",
            "account": "desk-7",
            "strategy": "vwap",
            "symbol": "AAPL",
            "side": "buy",
            "quantity": 100,
            "limit_price": "100.00",
        },
    ],
}


class OrderIn(_In):
    """A new order. The `Idempotency-Key` header, when given, is its idempotency key."""

    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra=_ORDER_SCHEMA)

    client_order_id: Printable = Field(min_length=1, max_length=64)
    account: Printable = Field(min_length=1, max_length=64)
    strategy: Printable = Field(min_length=1, max_length=64)
    symbol: Printable = Field(min_length=1, max_length=32)
    side: Side
    quantity: int = Field(strict=True, gt=0, le=MAX_QUANTITY, description="shares")
    order_type: OrderType = OrderType.LIMIT
    limit_price: str | None = Field(
        None, pattern=DECIMAL, description="decimal string, required for limit orders"
    )
    time_in_force: TimeInForce = TimeInForce.DAY
    session: TradingSession | None = Field(
        None,
        description="optional: the server's calendar decides; a label that disagrees with "
        "it is refused with SESSION_MISMATCH",
    )
    parent_id: Printable | None = Field(None, min_length=1, max_length=64)


class OrderAccepted(BaseModel):
    order_id: int
    seq: int = Field(description="journal sequence of the decision (durable when answered)")
    replayed: bool = Field(description="true when this answers a known Idempotency-Key again")


class RejectBody(BaseModel):
    """Every refusal: the stable code, its sentence, the limit and the attempted value.
    Published closed (every field required, no other): a client may rely on the shape, and
    schemathesis's response check holds every refusal to exactly it."""

    model_config = ConfigDict(extra="forbid")

    code: RejectCode
    message: str = Field(description="starts with the code")
    limit: str = Field(description="the limit or rule refused against ('' when none)")
    attempted: str = Field(description="what the request tried ('' when none)")


class OrderView(BaseModel):
    order_id: int
    client_order_id: str
    account: str
    strategy: str
    symbol: str
    side: Side
    quantity: int
    limit_price: str | None
    filled: int
    leaves: int
    status: str = Field(description="pending, working, filled, cancelled or venue_rejected")


class CancelAccepted(BaseModel):
    order_id: int
    status: str = "cancel_requested"


class PositionView(BaseModel):
    account: str
    symbol: str
    position: int
    open_buy: int
    open_sell: int


class LimitsView(BaseModel):
    digest: str = Field(description="the digest journaled with every decision")
    firm: dict[str, object]
    accounts: dict[str, dict[str, object]] = Field(description="effective limits per account")
    collar: dict[str, object]
    rates: dict[str, object]


class HealthView(BaseModel):
    status: str = Field(
        description="ok, or JOURNAL_UNAVAILABLE while orders are refused for the journal"
    )
    journal: str = Field(
        "available", description="the journal's store now: 'available' or JOURNAL_UNAVAILABLE"
    )
    journal_since_ns: int = Field(0, description="epoch ns the journal became unavailable")
    journal_failure: str = Field(
        "",
        description="why orders are refused for the journal "
        "(kept after it is back if the instance stopped for good)",
    )
    instance_id: str
    gate: str = Field(description="'routing', or the code orders are refused with")
    durable_seq: int
    lease_expires_ns: int = Field(
        description="epoch ns when the gate closes by itself unless the lease is renewed "
        "(0: never registered)"
    )
    venue: str = Field(description="'simulated' (a demo exchange), 'fix up' or 'fix down'")
    drop_copy: str = Field(
        "none",
        description="the venue's drop copy: 'none' (not configured), 'up', or 'down' (blind: "
        "executions are not being compared with what this instance released)",
    )
    drop_copy_breaks: int = Field(
        0, description="drop-copy breaks so far (each one halted its account or instance)"
    )
    readiness: ReadinessView | None = Field(
        None, description="the pre-open readiness gate's latest look, with every cause"
    )


class MassCancelIn(_In):
    """Filters of a mass cancel; each left out matches every value. Only the caller's own
    accounts are ever cancelled."""

    account: str | None = Field(None, min_length=1, max_length=64)
    symbol: str | None = Field(None, min_length=1, max_length=32)
    strategy: str | None = Field(None, min_length=1, max_length=64)


class MassCancelAccepted(BaseModel):
    count: int = Field(description="orders a cancel was requested for")
    order_ids: list[int]
    status: str = "cancel_requested"


def order_view(o: Order) -> OrderView:
    """The wire view of a gateway order."""
    return OrderView(
        order_id=o.order_id,
        client_order_id=o.client_order_id,
        account=o.account,
        strategy=o.strategy,
        symbol=o.symbol,
        side=o.side,
        quantity=o.qty,
        limit_price=None if o.is_market else str(o.instrument.to_price(o.price)),
        filled=o.filled,
        leaves=o.leaves,
        status=o.status.name.lower(),
    )
