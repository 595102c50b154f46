"""Rebuild a gateway's state by folding its journal through the book's `apply` methods.

Decisions are not re-made: an accepted order is re-reserved exactly as recorded, so the
book after a restart equals the book before it (positions, open orders and reservations,
parent fills, rate and duplicate windows, idempotency keys). Orders that were durable at
the crash are taken as working: they may have reached the venue, so they keep their
reservations until the venue says otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from interlock.control.plane import HaltRecord
from interlock.domain.decision import Decision
from interlock.domain.enums import (
    HaltScope,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
    TradingSession,
)
from interlock.domain.events import (
    Cancelled,
    Filled,
    HaltApplied,
    HaltLifted,
    LimitsLoaded,
    OrderDecided,
    ParentDeclared,
    VenueRejected,
)
from interlock.domain.instrument import Instrument
from interlock.domain.order import Order
from interlock.domain.reject import RejectCode, Rejection
from interlock.errors import RecoveryError
from interlock.gateway.idempotency import IdempotencyStore
from interlock.journal.base import Journal
from interlock.risk.book import Book


@dataclass
class Recovered:
    next_order_id: int = 1
    limits_digest: str = ""
    events: int = 0
    halts: list[HaltRecord] = field(default_factory=list)
    exec_ids: set[tuple[int, str]] = field(default_factory=set)


def _session(ev: OrderDecided) -> TradingSession:
    """The session the order was judged in: the server's, or (journals from before the
    calendar) the request's label, which was then all there was."""
    if ev.session:
        return TradingSession(ev.session)
    label = ev.request.session if ev.request is not None else None
    return TradingSession.CONTINUOUS if label is None else TradingSession(label)


def rebuild_order(seq: int, ev: OrderDecided, instruments: dict[str, Instrument]) -> Order:
    req = ev.request
    if req is None or ev.order_id is None:
        raise RecoveryError(f"journal seq {seq}: accepted order without its request")
    inst = instruments.get(req.symbol)
    if inst is None:
        raise RecoveryError(
            f"journal seq {seq}: accepted order {ev.order_id} is for {req.symbol}, "
            "which is not in the configured instruments"
        )
    side = Side(req.side)  # a transport may have given enum fields as their string values
    order = Order(
        ev.order_id, req.client_order_id, req.account, req.strategy, req.symbol, side,
        side.sign, req.quantity, ev.price, ev.value_ticks,
        OrderType(req.order_type) is OrderType.MARKET, TimeInForce(req.time_in_force),
        _session(ev), req.parent_id,
        inst, ev.principal, ev.ts, req.quantity * ev.value_ticks * inst.tick_micros,
    )  # fmt: skip
    order.seq = seq
    return order


def recover(
    journal: Journal, book: Book, keys: IdempotencyStore, instruments: dict[str, Instrument]
) -> Recovered:
    out = Recovered()
    halts: dict[tuple[HaltScope, str], HaltRecord] = {}
    orders = book.orders
    for seq, ev in journal.read():
        out.events += 1
        if isinstance(ev, OrderDecided):
            if ev.order_id is not None:
                order = rebuild_order(seq, ev, instruments)
                book.apply_accept(order)
                order.status = OrderStatus.WORKING
                out.next_order_id = max(out.next_order_id, ev.order_id + 1)
                decision = Decision(ev.order_id, None, seq)
            else:
                code = RejectCode(ev.code)
                decision = Decision(None, Rejection(code, ev.reason, ev.limit, ev.attempted), seq)
            if ev.principal and ev.request is not None:
                keys.bind(ev.principal, ev.request, decision)
        elif isinstance(ev, Filled):
            if ev.exec_id:
                out.exec_ids.add((ev.order_id, ev.exec_id))
            o = orders.get(ev.order_id)
            if o is not None:
                book.apply_fill(o, ev.qty, ev.price)
        elif isinstance(ev, Cancelled):
            o = orders.get(ev.order_id)
            if o is not None:
                book.apply_done(o, OrderStatus.CANCELLED)
        elif isinstance(ev, VenueRejected):
            o = orders.get(ev.order_id)
            if o is not None:
                book.apply_done(o, OrderStatus.VENUE_REJECTED)
        elif isinstance(ev, ParentDeclared):
            book.apply_parent(ev.parent)
        elif isinstance(ev, HaltApplied):
            halts[(ev.scope, ev.target)] = HaltRecord(ev.scope, ev.target, ev.reason, ev.who, ev.ts)
        elif isinstance(ev, HaltLifted):
            halts.pop((ev.scope, ev.target), None)
        elif isinstance(ev, LimitsLoaded):
            out.limits_digest = ev.digest
    out.halts = list(halts.values())
    return out
