"""The Gateway: every order passes `submit`, in DESIGN.md's order, and nothing else routes.

    1 decode + schema   2 authenticate   (5 replay of a known idempotency key)
    3 instance gate     4 kill switch    6 pre-trade checks   7 reserve
    8 journal           9 release to the venue and ack, once the record is durable

Decide synchronously, release after durable: `submit` returns the decision at once; the
journal's commit callback hands accepted orders to the venue and acks callers. A known
idempotency key is answered right after authentication, before gates and halts: a replay
reports a decision already made (and an order perhaps already working), it makes none.

One lock makes the gateway a single writer: submits, venue events, halts and reference
prices all mutate the book under it, and the venue and callbacks are only ever called
outside it. The instance gate (step 3) is a cache the control plane's callbacks refresh
under the gate's own lock, so a callback never waits for an order, and the order path
reads two attributes of it. An optional fleet budget (config `fleet.budgets`) runs after
the pre-trade checks and asks the control plane for slice only when the one held is too
small. Release, deploy and flag events the instance observes are journaled; `flags` is
the instance's FlagSet (what router and strategy code reads), kept current by the watch.
The fleet side of the instance (lease, watch, halts, budgets, flags) is the `FleetMember`
mixin, in membership.py.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable

from interlock.control.attestation import attest
from interlock.control.fleet_halt import HaltReport
from interlock.control.fleetflags import declared
from interlock.control.halt_view import HaltView
from interlock.control.instance_gate import InstanceGate
from interlock.control.plane import ControlPlane
from interlock.domain.commands import OrderRequest, ParentOrder
from interlock.domain.decision import Decision
from interlock.domain.enums import OrderStatus
from interlock.domain.events import (
    Cancelled,
    CancelRequested,
    Filled,
    LimitsLoaded,
    OrderDecided,
    ParentDeclared,
    VenueRejected,
)
from interlock.domain.order import Order
from interlock.domain.reject import RejectCode, Rejection, reject
from interlock.flags.manifest import FlagManifest
from interlock.flags.runtime import FlagSet
from interlock.gateway.auth import Authenticator, Principal
from interlock.gateway.config import GatewayConfig
from interlock.gateway.decode import decode
from interlock.gateway.idempotency import IdempotencyStore
from interlock.gateway.membership import FleetMember
from interlock.gateway.recovery import recover
from interlock.gateway.self_halt import SelfHalting
from interlock.journal.base import Journal
from interlock.observe import MONITOR_NAMES, Trip, build_monitor
from interlock.risk.book import Book
from interlock.risk.engine import RiskEngine
from interlock.venue.base import Venue

_log = logging.getLogger(__name__)
_PENDING = OrderStatus.PENDING  # module constants: enum class attributes are slow on 3.11
_RELEASING = OrderStatus.RELEASING
_CANCEL_ON_RELEASE = OrderStatus.CANCEL_ON_RELEASE
_WORKING = OrderStatus.WORKING
_SCHEMA_INVALID = RejectCode.SCHEMA_INVALID
Ack = Callable[[Decision], None]
Accept = Callable[[Order], None]
Caller = Principal | str  # a Principal from an edge that authenticated, or an API key
Clock = Callable[[], int]
GATE_CHECK = "instance_gate"
"""Pass in `disabled_checks` to switch the instance gate off (defence-in-depth runs only)."""


class Gateway(FleetMember, SelfHalting):
    def __init__(
        self,
        config: GatewayConfig,
        journal: Journal,
        venue: Venue,
        plane: ControlPlane,
        *,
        clock: Clock = time.time_ns,
        disabled_checks: Iterable[str] = (),
        build_digest: str | None = None,
        flag_digest: str = "",
        flag_manifest: FlagManifest | None = None,
    ) -> None:
        """`build_digest` None: the digest of the installed package (see attestation);
        `flag_digest` "": the digest of `flag_manifest`, the flags this build reads."""
        self.config = config
        self.instance_id = config.instance_id
        self.journal = journal
        self.venue = venue
        self.plane = plane
        self._clock = clock
        self._lock = threading.Lock()
        self.instruments = config.instrument_map()
        self.book = Book(
            config.limits, self.instruments, config.calendar.compile(), config.declared_strategies()
        )
        disabled = frozenset(disabled_checks)
        self.engine = RiskEngine(self.book, disabled - {GATE_CHECK} - MONITOR_NAMES)
        # the runaway monitors: fed under the lock, fired once it is let go (see _fire)
        self.monitor = build_monitor(config.monitors, self._trip, disabled)
        self.trip_reports: list[tuple[Trip, HaltReport]] = []
        self._loss_latched: set[str] = set()  # accounts halted for loss, until back under it
        self._reducing_on_loss = config.limits.loss_halt_allows_reducing
        self.auth = Authenticator.for_gateway(config)
        self.idempotency = IdempotencyStore()
        self.attestation = attest(self.instance_id, config.digest(), build_digest, flag_digest,
                                  flag_manifest)  # fmt: skip
        self.flags = FlagSet(declared(self.attestation))  # all off until the plane says
        self.gate = InstanceGate(self.attestation, config.fleet.quorum)
        self._path_gate = None if GATE_CHECK in disabled else self.gate
        self.halts = HaltView(self.instance_id)
        self.budgets = self._fleet_budgets() if config.fleet.budgets else None
        self._limits_digest = config.limits.digest()
        self._next_order_id = 1
        self._released_seq = 0  # every decision up to here is durable and released
        self._exec_ids: set[tuple[int, str]] = (
            set()
        )  # (order, venue exec id): a resent fill counts once
        self._pending: deque[tuple[int, Order | None, Decision, Ack | None]] = deque()
        self._unwatch: Callable[[], None] | None = None
        self._stop_heartbeat = threading.Event()

    # -- life cycle ------------------------------------------------------------------

    def start(self) -> Gateway:
        """Rebuild state from the journal, then join the control plane under a lease."""
        with self._lock:
            state = recover(self.journal, self.book, self.idempotency, self.instruments)
            self._next_order_id = state.next_order_id
            self._released_seq = self.journal.durable_seq  # recovered orders count as released
            self._exec_ids = state.exec_ids
            if state.limits_digest != self._limits_digest:
                self.journal.append(
                    LimitsLoaded(
                        self._clock(), self._limits_digest, self.config.limits.canonical_json()
                    )
                )
        self.journal.on_durable(self._on_durable)
        self._join_fleet(state.halts)
        return self

    def close(self) -> None:
        self._stop_heartbeat.set()
        if self._unwatch is not None:
            self._unwatch()
            self._unwatch = None
        self.plane.leave(self.instance_id)
        self.journal.close()

    # -- the order path --------------------------------------------------------------

    def submit(
        self,
        request: OrderRequest,
        caller: Caller,
        on_ack: Ack | None = None,
        on_accept: Accept | None = None,
    ) -> Decision:
        """Decide `request` for `caller` (a Principal this gateway's `auth` issued, or an API
        key). `on_ack(decision)`: once durable (and released), outside the lock.
        `on_accept(order)`: for an accepted order only, at once, under the gateway's lock,
        before the order can reach the venue (so before any fill or cancel of it): a
        transport learns the order id first. It must be cheap and never call the gateway."""
        with self._lock:
            decision = self._submit(request, caller, on_ack, on_accept)
        if self.monitor.pending:
            self._fire()
        return decision

    def _submit(
        self, request: OrderRequest, caller: Caller, on_ack: Ack | None, on_accept: Accept | None
    ) -> Decision:
        """The order path, under the lock. Every authenticated decision that is not a replay
        feeds the runaway monitors."""
        now = self._clock()
        order = decode(request, self.instruments, self.book, "", now)  # 1
        if isinstance(order, Rejection):
            return self._decide(now, "", request, None, order, on_ack)
        principal = self.auth.authorize(caller, request)  # 2
        if isinstance(principal, Rejection):
            decision = self._decide(now, "", request, None, principal, on_ack)
            known = self.auth.known(caller)  # authorize cached it if the key is good
            if known is not None and request.account in known.accounts:  # its own account,
                self.monitor.on_decision(self.instance_id, request, decision, now)  # a loop
            return decision
        name = order.principal = principal.name
        if request.idempotency_key is not None:  # 5: a known key is answered as before
            prior = self.idempotency.lookup(name, request)
            if isinstance(prior, Decision):
                if on_ack is not None:
                    if self.journal.durable_seq < prior.seq:
                        self._pending.append((prior.seq, None, prior, on_ack))
                    else:  # already durable: ack now, outside the lock
                        self._lock.release()
                        try:
                            on_ack(prior)
                        finally:
                            self._lock.acquire()
                return prior
            if prior is not None:
                return self._decide(now, name, request, None, prior, on_ack, bind=False)
        decision = self._judge(now, name, request, order, on_ack, on_accept)
        self.monitor.on_decision(self.instance_id, request, decision, now)
        return decision

    def _judge(
        self,
        now: int,
        name: str,
        request: OrderRequest,
        order: Order,
        on_ack: Ack | None,
        on_accept: Accept | None,
    ) -> Decision:
        """Steps 3, 4, 6, 7 and 8 for an authenticated order."""
        gate = self._path_gate  # 3: two reads of a cache, unless it is closed
        if gate is not None and (not gate.open or now >= gate.lease_deadline):
            refusal = gate.check(now)
            if refusal is not None:
                return self._decide(now, name, request, None, refusal, on_ack)
        rejection = self.halts.check(order) if self.halts.any else None  # 4
        if rejection is not None and self._passes_loss_halt(order):
            rejection = None
        if rejection is None:
            rejection = self.engine.check(order, now)  # 6
        if rejection is None and self.budgets is not None:  # 6: fleet-wide position
            spec = self.budgets.specs.get((order.account, order.symbol))
            if spec is not None:
                need = self._exposure(order.account, order.symbol, order.sign * order.qty)
                rejection = self.budgets.admit(spec, need)
        if rejection is not None:
            return self._decide(now, name, request, None, rejection, on_ack)
        order.order_id = self._next_order_id  # 7 + 8
        decision = self._decide(now, name, request, order, None, on_ack)
        self._next_order_id += 1
        self.book.apply_accept(order)
        if on_accept is not None:  # under the lock: the release loop cannot have it yet
            try:
                on_accept(order)
            except Exception:  # journaled and reserved already: it stands, the fault is logged
                _log.exception("accept callback failed for order %d", order.order_id)
        return decision

    def _decide(
        self,
        now: int,
        principal: str,
        request: OrderRequest,
        order: Order | None,
        rejection: Rejection | None,
        on_ack: Ack | None,
        bind: bool = True,
    ) -> Decision:
        """Journal the decision (append only: no I/O here), bind its key, queue the ack."""
        if rejection is None:
            assert order is not None
            event = OrderDecided(
                now, principal, request, order.order_id, order.price, order.value_ticks,
                "", "", "", "", self._limits_digest, "",
                order.session.value if order.session is not None else "",
            )  # fmt: skip
        elif rejection.code is _SCHEMA_INVALID:
            raw = ascii(request)[:2_000]
            event = OrderDecided(
                now, principal, None, None, 0, 0, rejection.code.value, rejection.reason,
                rejection.limit, rejection.attempted, self._limits_digest, raw,
            )  # fmt: skip
        else:
            event = OrderDecided(
                now, principal, request, None, 0, 0, rejection.code.value, rejection.reason,
                rejection.limit, rejection.attempted, self._limits_digest,
            )  # fmt: skip
        seq = self.journal.append(event)
        decision = Decision(None if order is None else order.order_id, rejection, seq)
        if order is not None:
            order.seq = seq
        if bind and principal and request.idempotency_key is not None:
            self.idempotency.bind(principal, request, decision)
        if order is not None or on_ack is not None:
            self._pending.append((seq, order, decision, on_ack))
        return decision

    def _on_durable(self, durable_seq: int) -> None:
        """Journal commit callback: release durable orders to the venue, ack their callers.

        The lock is taken twice per batch, never per order. First the batch's pending orders
        become RELEASING; then each is sent, outside the lock, unless a halt or cancel
        marked it CANCEL_ON_RELEASE before its turn (a read of its status). Then, under
        the lock again, those sent become WORKING, and those marked while (or before) being
        sent are cancelled at the venue (sent) or in place (never sent). A cancel is never
        sent before the venue has the order, and nothing here waits on a halt.
        """
        released: list[tuple[Order | None, Decision, Ack | None]] = []
        with self._lock:
            pending = self._pending
            while pending and pending[0][0] <= durable_seq:
                _, order, decision, on_ack = pending.popleft()
                if order is not None:
                    if order.status is not _PENDING:
                        order = None  # cancelled by a halt before it could leave
                    else:
                        order.status = _RELEASING
                released.append((order, decision, on_ack))
        sent: list[Order] = []
        held: list[Order] = []
        for order, _, _ in released:  # every order out first: one caller's ack can't hold it
            if order is not None:
                if order.status is not _RELEASING:
                    held.append(order)  # marked by a halt or cancel before it left: never sent
                    continue
                try:
                    self.venue.send(order)
                except Exception as exc:  # the venue never got it: release its reservation
                    _log.exception("venue send failed for order %d", order.order_id)
                    self.on_rejected(order.order_id, f"venue send failed: {exc!r}")
                    continue
                sent.append(order)
        to_cancel: list[int] = []
        if sent or held:
            with self._lock:
                for order in sent:
                    if order.status is _RELEASING:
                        order.status = _WORKING
                    elif order.status is _CANCEL_ON_RELEASE:  # marked while being sent
                        order.status = _WORKING  # at the venue now: its cancel goes next
                        to_cancel.append(order.order_id)
                if held:
                    now = self._clock()
                    for order in held:
                        if order.status is _CANCEL_ON_RELEASE:
                            qty = self.book.apply_done(order, OrderStatus.CANCELLED)
                            self.journal.append(
                                Cancelled(now, order.order_id, qty, "cancelled before release")
                            )
        for order_id in to_cancel:
            self.venue.cancel(order_id)
        for _, decision, on_ack in released:
            if on_ack is not None:
                try:
                    on_ack(decision)
                except Exception:
                    _log.exception("ack callback failed for decision seq %d", decision.seq)
        self._released_seq = max(self._released_seq, durable_seq)

    def wait(self, decision: Decision, timeout: float | None = 5.0) -> Decision:
        """Block until `decision` is durable and, if accepted, released; return it."""
        if self._released_seq < decision.seq:
            self.journal.flush(timeout)
        return decision

    def _refuse_fill(self, order: Order, qty: int, price: int, exec_id: str) -> None:
        """Not applied to the book: a fill for an order not yet released is a venue or
        session fault (a misrouted or forged report). Logged at error level and counted in
        `refused_fills`, which monitors read to alert."""
        with self._lock:
            self.refused_fills += 1
        _log.error(
            "fill refused: order %d is not yet released to the venue (%d @ %d ticks, exec %r)",
            order.order_id, qty, price, exec_id,
        )  # fmt: skip

    # -- other commands --------------------------------------------------------------

    def cancel(
        self, order_id: int, caller: Caller, reason: str = "cancel requested"
    ) -> Rejection | None:
        """Cancel an order. Cancels pass while halted or fenced: they only reduce risk."""
        if order_id.__class__ is not int:  # a list or a str would raise out of the lookup
            return reject(
                RejectCode.SCHEMA_INVALID,
                f"order id must be a whole number, got {ascii(order_id)[:40]}",
                limit="an open order id",
                attempted=ascii(order_id)[:40],
            )
        with self._lock:
            principal = self.auth.resolve(caller)
            order = self.book.orders.get(order_id)
            if principal is None or (order is not None and order.account not in principal.accounts):
                return reject(
                    RejectCode.UNAUTHENTICATED,
                    f"caller may not cancel order {order_id}",
                    limit="owner of the account",
                    attempted=order_id,
                )
            if order is None or not order.status.is_open:
                return reject(
                    RejectCode.SCHEMA_INVALID,
                    f"order {order_id} is not open",
                    limit="an open order id",
                    attempted=order_id,
                )
            now = self._clock()
            self.journal.append(CancelRequested(now, order_id, principal.name, reason))
            to_venue = self._cancel_locked(order, now, reason)
        if to_venue:
            self.venue.cancel(order_id)
        return None

    def declare_parent(self, parent: ParentOrder, caller: Caller) -> Rejection | None:
        with self._lock:
            principal = self.auth.resolve(caller)
            if principal is None or parent.account not in principal.accounts:
                return reject(
                    RejectCode.UNAUTHENTICATED,
                    f"caller may not declare parents for account {parent.account}",
                    limit="owner of the account",
                    attempted=parent.account,
                )
            if parent.quantity <= 0 or parent.symbol not in self.instruments:
                return reject(
                    RejectCode.SCHEMA_INVALID,
                    f"parent {parent.parent_id} needs a positive quantity and a known symbol",
                    limit="quantity > 0, listed symbol",
                    attempted=f"{parent.quantity} {parent.symbol}",
                )
            known = self.book.parents.get(parent.parent_id)
            if known is not None:
                if known.parent == parent:
                    return None  # the same declaration again: nothing new
                return reject(
                    RejectCode.SCHEMA_INVALID,
                    f"parent {parent.parent_id} is already declared as {known.parent.account} "
                    f"{known.parent.side.value} {known.parent.quantity:,} {known.parent.symbol}",
                    limit="one declaration per parent id",
                    attempted=f"{parent.account} {parent.side.value} {parent.quantity:,} "
                    f"{parent.symbol}",
                )
            self.journal.append(ParentDeclared(self._clock(), parent))
            self.book.apply_parent(parent)
            return None

    def update_reference(self, symbol: str, ticks: int, ts: int | None = None) -> None:
        """A reference price (ticks), stamped with our clock unless the feed gives a time."""
        if ticks.__class__ is not int or ticks <= 0:
            raise ValueError(
                f"reference price for {symbol} must be a positive tick count: {ticks!r}"
            )
        with self._lock:
            now = self._clock()
            # a feed stamped in the future would never go stale: never trust it past our now
            self.book.apply_reference(symbol, ticks, now if ts is None else min(ts, now))
            holders = self.book.holders.get(symbol)
            breached = self._loss_breaches(holders) if holders else ()
        for account, reason in breached:  # a mark alone can breach: it halts as a fill does
            self._halt_for_loss(account, reason)

    # -- venue events (ExecutionSink) ------------------------------------------------

    refused_fills = 0
    """Fills refused because their order was never handed to the venue (see `on_fill`)."""

    def on_fill(self, order_id: int, qty: int, price: int, exec_id: str) -> None:
        pre = self.book.orders.get(order_id)  # a venue cannot fill what it was never sent:
        if pre is not None and pre.status is _PENDING:  # (PENDING ends before `send`)
            self._refuse_fill(pre, qty, price, exec_id)
            return
        with self._lock:
            if exec_id:
                seen = (order_id, exec_id)
                if seen in self._exec_ids:  # a venue resending after a reconnect
                    _log.warning("duplicate execution %s for order %d ignored", exec_id, order_id)
                    return
                self._exec_ids.add(seen)
            order = self.book.orders.get(order_id)
            now = self._clock()
            self.journal.append(Filled(now, order_id, qty, price, exec_id))
            if order is None:
                return
            self.book.apply_fill(order, qty, price)
            notional = qty * price * order.instrument.tick_micros
            self.monitor.on_fill(self.instance_id, order.account, qty, notional, now)
            breached = self._loss_breaches((order.account,))
        for account, reason in breached:
            self._halt_for_loss(account, reason)
        if self.monitor.pending:
            self._fire()

    def on_cancelled(self, order_id: int, qty: int, reason: str) -> None:
        with self._lock:
            order = self.book.orders.get(order_id)
            released = self.book.apply_done(order, OrderStatus.CANCELLED) if order else 0
            self.journal.append(Cancelled(self._clock(), order_id, released, reason))

    def on_rejected(self, order_id: int, reason: str) -> None:
        with self._lock:
            order = self.book.orders.get(order_id)
            if order is not None:
                self.book.apply_done(order, OrderStatus.VENUE_REJECTED)
            self.journal.append(VenueRejected(self._clock(), order_id, reason))

    # -- views -----------------------------------------------------------------------

    def order(self, order_id: int) -> Order | None:
        return self.book.orders.get(order_id)

    def positions(self) -> list[tuple[str, str, int, int, int]]:
        """(account, symbol, position, open buys, open sells) for every non-flat line."""
        with self._lock:
            return [
                (a, s, p.pos, p.open_buy, p.open_sell)
                for a, acct in sorted(self.book.accounts.items())
                for s, p in sorted(acct.positions.items())
                if p.pos or p.open_buy or p.open_sell
            ]

    def open_orders(
        self, account: str | None = None, symbol: str | None = None, strategy: str | None = None
    ) -> list[Order]:
        """Pending and working orders, oldest first, of the given account, symbol and
        strategy (None: any). Live objects, like `order()`: a view, not a snapshot."""
        with self._lock:
            return [
                o
                for o in self.book.orders.values()
                if o.status.is_open
                and (account is None or o.account == account)
                and (symbol is None or o.symbol == symbol)
                and (strategy is None or o.strategy == strategy)
            ]

    def mass_cancel(
        self,
        caller: Caller,
        account: str | None = None,
        symbol: str | None = None,
        strategy: str | None = None,
        reason: str = "mass cancel",
    ) -> list[int] | Rejection:
        """Cancel (through `cancel`) every open order of the caller's accounts matching the
        filters; the ids a cancel was requested for. Another account: UNAUTHENTICATED."""
        principal = self.auth.resolve(caller)
        if principal is None or (account is not None and account not in principal.accounts):
            return reject(
                RejectCode.UNAUTHENTICATED,
                f"caller may not cancel orders of account {account}",
                limit="owner of the account",
                attempted=account or "",
            )
        targets = [
            o.order_id
            for o in self.open_orders(account, symbol, strategy)
            if o.account in principal.accounts
        ]
        return [oid for oid in targets if self.cancel(oid, principal, reason) is None]
