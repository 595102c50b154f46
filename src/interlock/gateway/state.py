"""The instance's state and its one `apply`: orders, fills, cancels, halts, exec ids,
idempotency keys, the order id counter and the limits in force.

The live path decides, appends the event to the journal, then applies it here; a restart
folds the journal through the very same `apply` (`fold`), so the state after a restart is
the state before it, by construction (tests/props/test_rebuild.py checks every prefix).
Decisions are never re-made on the way: an accepted order is re-reserved exactly as it
was recorded. What is not here is not journaled and not rebuilt: reference prices and
marks (a restart waits for the feed) and the runaway monitors' windows. How far an order
has got on its way to the venue is journaled only as `Routed` (the adapter has it):
`unrouted` holds the open orders decided but not yet routed. After a restart every open
order is taken as working (it may have reached the venue, so it keeps its reservation and
a cancel goes to the venue), and the gateway's reconciliation with the venue settles the
unrouted ones before any trading (gateway/reconcile.py, docs/architecture.md).
"""

from __future__ import annotations

from collections.abc import Callable

from interlock.control.halt_view import HaltView
from interlock.control.plane import HaltRecord
from interlock.domain.decision import Decision
from interlock.domain.enums import OrderStatus, OrderType, Side, TimeInForce, TradingSession
from interlock.domain.events import (
    Cancelled,
    CancelRequested,
    DropCopyBreak,
    Event,
    Filled,
    HaltApplied,
    HaltLifted,
    LimitsLoaded,
    LocateAdded,
    OrderDecided,
    ParentDeclared,
    Routed,
    VenueRejected,
)
from interlock.domain.instrument import Instrument
from interlock.domain.order import Order
from interlock.domain.reject import RejectCode, Rejection
from interlock.errors import RecoveryError
from interlock.gateway.decode import new_order
from interlock.gateway.drop_copy_ledger import DropCopyLedger
from interlock.gateway.idempotency import IdempotencyStore
from interlock.journal.base import Journal
from interlock.risk.book import Book
from interlock.risk.locates import Locate

_CANCELLED = OrderStatus.CANCELLED
_VENUE_REJECTED = OrderStatus.VENUE_REJECTED
_PENDING = OrderStatus.PENDING
_WORKING = OrderStatus.WORKING
_MESSAGE_RATE = RejectCode.MESSAGE_RATE.value


class InstanceState:
    """Everything a restart must give back, changed only by `apply`. Owned by the gateway
    lock, like the book it holds."""

    __slots__ = (
        "_by_type",
        "book",
        "drop_copy",
        "exec_ids",
        "halts",
        "instruments",
        "keys",
        "limits_digest",
        "next_order_id",
        "unrouted",
    )

    def __init__(self, book: Book, halts: HaltView, instruments: dict[str, Instrument]) -> None:
        self.book = book
        self.halts = halts
        self.instruments = instruments
        self.keys = IdempotencyStore()
        self.exec_ids: set[tuple[int, str]] = set()  # (order, venue exec id): counted once
        self.next_order_id = 1
        self.unrouted: set[int] = set()  # open orders decided, durable or not, never routed
        self.limits_digest = ""
        self.drop_copy = DropCopyLedger()  # the drop-copy breaks journaled (drop_copy.py)
        self._by_type: dict[type, Callable[[int, Event], None]] = {
            Filled: self._filled,  # type: ignore[dict-item]
            Cancelled: self._cancelled,  # type: ignore[dict-item]
            VenueRejected: self._venue_rejected,  # type: ignore[dict-item]
            ParentDeclared: self._parent,  # type: ignore[dict-item]
            HaltApplied: self._halt_applied,  # type: ignore[dict-item]
            HaltLifted: self._halt_lifted,  # type: ignore[dict-item]
            LimitsLoaded: self._limits,  # type: ignore[dict-item]
            Routed: self._routed,  # type: ignore[dict-item]
            DropCopyBreak: self._drop_copy_break,  # type: ignore[dict-item]
            LocateAdded: self._locate,  # type: ignore[dict-item]
            CancelRequested: self._cancel_requested,  # type: ignore[dict-item]
        }

    def register(self, handlers: dict[type, Callable[[int, Event], None]]) -> None:
        """Apply these record types too (a component's own state: limit changes)."""
        self._by_type.update(handlers)

    def apply(self, seq: int, event: Event, order: Order | None = None) -> None:
        """Apply one journaled event. `order` is the live path's decoded order for an
        accepted `OrderDecided` (so it is not built twice); a fold passes None and the order
        is rebuilt from the record. A cancel request counts in the message throttle and the
        order-to-trade tallies; events that change no state (deploys, flags) are accepted
        and ignored."""
        if event.__class__ is not OrderDecided:
            handler = self._by_type.get(event.__class__)
            if handler is not None:
                handler(seq, event)
            return
        ev: OrderDecided = event  # the hot one, inline
        request = ev.request
        if ev.order_id is not None:
            if order is None:
                order = rebuild_order(seq, ev, self.instruments)
            order.seq = seq
            self.book.apply_accept(order)
            self.unrouted.add(ev.order_id)
            if ev.order_id >= self.next_order_id:
                self.next_order_id = ev.order_id + 1
            if ev.principal and request is not None and request.idempotency_key is not None:
                self.keys.bind(ev.principal, request, Decision(ev.order_id, None, seq))
        elif ev.principal:  # refused after authentication: a message of its session
            if ev.code != _MESSAGE_RATE:  # over the throttle: refused, and spent nothing
                self.book.apply_message(ev.principal, ev.ts)
            if request is not None and request.idempotency_key is not None:
                rejection = Rejection(RejectCode(ev.code), ev.reason, ev.limit, ev.attempted)
                self.keys.bind(ev.principal, request, Decision(None, rejection, seq))

    def fold(self, journal: Journal) -> int:
        """Rebuild from `journal` (into a fresh state); open orders are then taken as
        working (those in `unrouted` wait for the venue's word: `Gateway.start`). The
        number of events read."""
        events = 0
        for seq, event in journal.read():
            self.apply(seq, event)
            events += 1
        for order in self.book.open_orders.values():
            if order.status is _PENDING:
                order.status = _WORKING
        return events

    # -- one method per kind of event -----------------------------------------------------

    def _filled(self, seq: int, ev: Filled) -> None:
        if ev.exec_id:
            self.exec_ids.add((ev.order_id, ev.exec_id))
        order = self.book.orders.get(ev.order_id)
        if order is not None:
            self.book.apply_fill(order, ev.qty, ev.price)
            if ev.qty > 0:
                self.book.apply_trade(order, ev.ts)
            if not order.status.is_open:
                self.unrouted.discard(ev.order_id)

    def _cancelled(self, seq: int, ev: Cancelled) -> None:
        order = self.book.orders.get(ev.order_id)
        if order is not None:
            self.book.apply_done(order, _CANCELLED)
        self.unrouted.discard(ev.order_id)

    def _venue_rejected(self, seq: int, ev: VenueRejected) -> None:
        order = self.book.orders.get(ev.order_id)
        if order is not None:
            self.book.apply_done(order, _VENUE_REJECTED)
        self.unrouted.discard(ev.order_id)

    def _cancel_requested(self, seq: int, ev: CancelRequested) -> None:
        self.book.apply_cancel_request(self.book.orders.get(ev.order_id), ev.principal, ev.ts)

    def _routed(self, seq: int, ev: Routed) -> None:
        self.unrouted.discard(ev.order_id)

    def _parent(self, seq: int, ev: ParentDeclared) -> None:
        self.book.apply_parent(ev.parent)

    def _halt_applied(self, seq: int, ev: HaltApplied) -> None:
        self.halts.put(HaltRecord(ev.scope, ev.target, ev.reason, ev.who, ev.halt_ts or ev.ts))

    def _halt_lifted(self, seq: int, ev: HaltLifted) -> None:
        self.halts.remove(ev.scope, ev.target)

    def _locate(self, seq: int, ev: LocateAdded) -> None:
        self.book.apply_locate(Locate(ev.locate_id, ev.account, ev.symbol, ev.quantity,
                                      ev.expires_ns, ev.source, ev.who))  # fmt: skip

    def _limits(self, seq: int, ev: LimitsLoaded) -> None:
        self.limits_digest = ev.digest

    def _drop_copy_break(self, seq: int, ev: DropCopyBreak) -> None:
        self.drop_copy.apply(ev)


def _session(ev: OrderDecided) -> TradingSession:
    """The session the order was judged in: the server's, or (journals from before the
    calendar) the request's label, which was then all there was."""
    if ev.session:
        return TradingSession(ev.session)
    label = ev.request.session if ev.request is not None else None
    return TradingSession.CONTINUOUS if label is None else TradingSession(label)


def rebuild_order(seq: int, ev: OrderDecided, instruments: dict[str, Instrument]) -> Order:
    """The accepted order exactly as recorded (prices, valuation and session from the
    record, never re-derived from today's reference prices or calendar)."""
    req = ev.request
    if req is None or ev.order_id is None:
        raise RecoveryError(f"journal seq {seq}: accepted order without its request")
    inst = instruments.get(req.symbol)
    if inst is None:
        raise RecoveryError(
            f"journal seq {seq}: accepted order {ev.order_id} is for {req.symbol}, "
            "which is not in the configured instruments"
        )
    # a transport may have given enum fields as their string values
    return new_order(
        ev.order_id,
        req.client_order_id,
        req.account,
        req.strategy,
        req.symbol,
        Side(req.side),
        req.quantity,
        ev.price,
        ev.value_ticks,
        OrderType(req.order_type) is OrderType.MARKET,
        TimeInForce(req.time_in_force),
        _session(ev),
        req.parent_id,
        inst,
        ev.principal,
        ev.ts,
        None if req.session is None else TradingSession(req.session),  # the caller's label
    )
