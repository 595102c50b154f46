"""The Gateway: every order passes `submit`, and nothing else routes.

`submit` runs the order path as data, `STAGES`, each `ctx -> Rejection | None`:

    0 journal available (journal_status.py: refused while nothing can be made durable)
    1 decode + schema   2 authenticate   5 a known idempotency key (before 3 and 4: why below)
    3 instance gate     4 kill switch    6 pre-trade checks, then the fleet budget
    and if none refused: 7 reserve + 8 journal (the decision, appended and applied)
    9 release to the venue and ack, once the record is durable (`_on_durable` hands it
      to the release loop, `_release`, off the journal writer: release_loop.py)

Decide, append, apply: every change of state is a journaled event applied through
`InstanceState.apply` (state.py), and a restart folds the journal through the same
`apply`. Decide synchronously, release after durable: `submit` returns the decision at
once; the journal's commit callback acks the durable refusals and hands the accepted
orders to the release loop, which sends them to the venue in journal order, journals a
`Routed` for each one the venue adapter took, and acks their callers. Cancels (a caller's,
a halt's) are sent the same way, once their record is durable (`_send_cancel`).
A known idempotency key is answered right after authentication, before gates and halts: a
replay reports a decision already made (and an order perhaps already working), it makes
none, and answering HALTED to the retry of an accepted order would tell its caller a lie.

One lock makes the gateway a single writer: submits, venue events, halts and reference
prices all mutate state under it, and the venue and callbacks are only ever called outside
it. The instance gate (step 3) is a cache the control plane's callbacks refresh under the
gate's own lock, so a callback never waits for an order, and the order path reads two
attributes of it. An optional fleet budget (config `fleet.budgets`) runs after the
pre-trade checks and asks the control plane for slice only when the one held is too
small. The Gateway is a facade over two components it holds: `fleet` (membership.py:
lease, watch, flags, budget slices, writing halts) and `self_halts` (self_halt.py: the
runaway monitors' trips and the loss halt). Applying a halt to the orders is the
gateway's own business (`_apply_halt`): it is the one that holds them.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from interlock.control.attestation import attest
from interlock.control.fleet_halt import HaltReport
from interlock.control.halt_view import HaltView
from interlock.control.instance_gate import InstanceGate
from interlock.control.plane import Attestation, HaltRecord, Release
from interlock.control.ports import ControlPlane
from interlock.domain.clock import Clock
from interlock.domain.commands import OrderRequest, ParentOrder
from interlock.domain.decision import Decision
from interlock.domain.enums import HaltScope, OrderStatus, TradingSession
from interlock.domain.events import (
    Cancelled,
    CancelRequested,
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
from interlock.domain.order import Order
from interlock.domain.reject import RejectCode, Rejection, reject, render
from interlock.errors import ControlPlaneError, JournalError
from interlock.flags.manifest import FlagManifest
from interlock.flags.runtime import FlagSet
from interlock.gateway.adv_reload import AdvReload
from interlock.gateway.auth import Authenticator, Principal
from interlock.gateway.config import GatewayConfig
from interlock.gateway.decode import decode
from interlock.gateway.fleet_limits import FleetLimits
from interlock.gateway.journal_status import JournalWatch
from interlock.gateway.limit_changes import LimitChanges
from interlock.gateway.locate_admin import locate_refusal
from interlock.gateway.membership import FleetMembership, FleetSnapshot
from interlock.gateway.preopen import Observed, PreOpenWatch, preopen_gate
from interlock.gateway.reconcile import Reconciler, ReconcileReport
from interlock.gateway.release_loop import ReleaseLoop
from interlock.gateway.self_halt import SelfHalts
from interlock.gateway.state import InstanceState
from interlock.journal.base import Journal
from interlock.observe import MONITOR_NAMES, Trip
from interlock.observe.decision_stats import DecisionStats
from interlock.risk.book import Book
from interlock.risk.engine import RiskEngine
from interlock.risk.exposure import worst_case
from interlock.risk.limits import LimitsConfig
from interlock.risk.locates import Locate
from interlock.venue.base import Venue

if TYPE_CHECKING:
    from interlock.gateway.drop_copy import DropCopyWatch

_log = logging.getLogger(__name__)
_decisions_log = logging.getLogger("interlock.decisions")  # event order.decided, one a decision
_INFO = logging.INFO
_perf_ns = time.perf_counter_ns  # the decide latency's clock (never the gateway's own)
_PENDING = OrderStatus.PENDING  # module constants: enum class attributes are slow on 3.11
_RELEASING = OrderStatus.RELEASING
_CANCEL_ON_RELEASE = OrderStatus.CANCEL_ON_RELEASE
_WORKING = OrderStatus.WORKING
_SCHEMA_INVALID = RejectCode.SCHEMA_INVALID
_IDEMPOTENCY_CONFLICT = RejectCode.IDEMPOTENCY_CONFLICT
_JOURNAL_UNAVAILABLE = RejectCode.JOURNAL_UNAVAILABLE
_SESSION_TEXT: dict[TradingSession | None, str] = {s: s.value for s in TradingSession}
_SESSION_TEXT[None] = ""  # closed: only ever refused
_CODE_TEXT = {c: c.value for c in RejectCode}  # a dict read: an enum's .value is 2 calls
Ack = Callable[[Decision], None]
Entry = tuple[int, "Order | None", Decision, "Ack | None"]  # (seq, order, decision, on_ack)
Accept = Callable[[Order], None]
Caller = Principal | str  # a Principal from an edge that authenticated, or an API key
GATE_CHECK = "instance_gate"
"""Pass in `disabled_checks` to switch the instance gate off (defence-in-depth runs only)."""

STAGES = (
    "journal",
    "decode",
    "authenticate",
    "replay",
    "instance_gate",
    "kill_switch",
    "readiness",
    "pre_trade_checks",
    "fleet_budget",
)
"""The order path's stages, in the order `submit` runs them (`Gateway.stages` maps each to
its function: a `_stage_<name>` method, or the risk engine's `check`). DESIGN.md's steps
1, 2, 5, 3, 4, the pre-open readiness block (preopen.py), 6 and 6, after the journal's
availability (a refusal there is answered, not journaled: nothing can be made durable);
docs/architecture.md draws them."""


class OrderContext:
    """One order on its way through the stages: what they read and what they find out.
    One per gateway, reused under its lock (the path allocates nothing for it)."""

    __slots__ = ("caller", "now", "order", "principal", "request")

    def __init__(self) -> None:
        self.now = 0
        self.request: OrderRequest = None  # type: ignore[assignment]
        self.caller: Caller = ""
        self.order: Order = None  # type: ignore[assignment]  # set by decode
        self.principal: Principal = None  # type: ignore[assignment]  # set by authenticate


Stage = Callable[[OrderContext], "Rejection | Decision | None"]


@dataclass(frozen=True, slots=True)
class Health:
    instance_id: str
    gate: str  # 'routing', or the code the instance refuses orders with
    durable_seq: int
    lease_expires_ns: int = 0  # when the gate closes unless renewed (0: never registered)
    journal: str = "available"  # or JOURNAL_UNAVAILABLE: the journal's store right now
    journal_since_ns: int = 0  # when the journal became unavailable (0: never, or back)
    journal_failure: str = ""  # why orders are refused for the journal ("": they are not);
    # it stays after the journal is back if the backlog overflowed (stopped for good)


class Gateway:
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
        self.halts = HaltView(self.instance_id)
        self.state = InstanceState(self.book, self.halts, self.instruments)
        self.limit_changes = LimitChanges(
            self.book, self.instruments, config.limit_changes.pending_ttl_ms, lock=self._lock,
            record=self._record, clock=clock, swapped=self._limits_swapped,
            refusal=lambda: self.journal_watch.refusal, flush=journal.flush,
            others=self._other_members, name=self.instance_id,
        )  # fmt: skip
        self.state.register(self.limit_changes.handlers())
        self.adv = AdvReload(self.book, config.adv_file(), lock=self._lock, record=self._record,
                             clock=clock)  # fmt: skip
        self.state.register(self.adv.handlers())
        disabled = frozenset(disabled_checks)
        self.engine = RiskEngine(self.book, disabled - {GATE_CHECK} - MONITOR_NAMES)
        self.auth = Authenticator.for_gateway(config, clock)
        attestation = attest(self.instance_id, config.fleet_digest(), build_digest,
                             flag_digest, flag_manifest)  # fmt: skip
        self.gate = InstanceGate(attestation, config.fleet.quorum)
        self.fleet = FleetMembership(
            config=config, plane=plane, attestation=attestation, gate=self.gate,
            book=self.book, exposure=self._exposure, apply_halt=self._apply_halt,
            lift_halt=self._lift_halt, record=self._record, lock=self._lock, clock=clock,
        )  # fmt: skip
        self.fleet_limits = FleetLimits(config, self.limit_changes, self.fleet,
                                        lambda: self.book.limits, symbols=self.instruments,
                                        clock=clock)  # fmt: skip
        self.budgets = self.fleet.budgets
        self.self_halts = SelfHalts(
            config.monitors, disabled, book=self.book, halts=self.halts, fleet=self.fleet,
            lock=self._lock, reducing_on_loss=config.limits.loss_halt_allows_reducing,
        )  # fmt: skip
        self.monitor = self.self_halts.monitor
        self.stats = DecisionStats()  # decisions by code, decide latency: for /metrics
        self.journal_watch = JournalWatch(
            self.instance_id, journal, config.journal.max_backlog, fleet=self.fleet,
            cancel_all=self._cancel_everything,
        )  # fmt: skip
        self.reconciler = Reconciler(
            instance_id=self.instance_id, venue=venue, state=self.state, gate=self.gate,
            lock=self._lock, record=self._record, fill=self.on_fill, cancel=self._venue_cancel,
            halt=self.halt, flush=journal.flush, clock=clock,
            timeout_s=config.venue_reconcile_timeout_ms / 1_000,
        )  # fmt: skip
        self.preopen = PreOpenWatch(
            self.instance_id, config.preopen, self.book.calendar,
            preopen_gate(config.preopen, self.instance_id), observe=self._observe_readiness,
            max_age_ms=config.limits.collar.reference_max_age_ms, record=self._record_locked,
            clock=clock, tick=self.adv.tick,
        )  # fmt: skip
        self._limits_digest = config.limits.digest()
        self._pending: deque[Entry] = deque()  # decided, not yet durable
        self._to_release: deque[Entry] = deque()  # durable, for the release loop
        self._cancels: deque[tuple[int, int]] = deque()  # (seq of its record, order id)
        self._cancels_due: list[int] = []  # durable cancels, for the release loop
        self._handed_seq = 0  # the newest durable seq `_on_durable` took
        self._cancels_now: list[int] = []  # self-trade cancels due at once (journal down)
        threaded = bool(getattr(journal, "has_writer", False))  # else: commits in `flush`
        self.releaser = ReleaseLoop(self._release, threaded=threaded,
                                    name=f"release-{self.instance_id}")  # fmt: skip
        self._ctx = OrderContext()
        self.drop_copy: DropCopyWatch | None = None  # the venue's drop copy, when configured
        off = {GATE_CHECK} & disabled | (set() if self.budgets is not None else {"fleet_budget"})
        by_name: dict[str, Stage] = {
            "journal": self._stage_journal,
            "decode": self._stage_decode,
            "authenticate": self._stage_authenticate,
            "replay": self._stage_replay,
            "instance_gate": self._stage_instance_gate,
            "kill_switch": self._stage_kill_switch,
            "readiness": self._stage_readiness,
            "pre_trade_checks": self.engine.check,  # 6: the risk engine judges the context
            "fleet_budget": self._stage_fleet_budget,
        }
        self.stages: tuple[tuple[str, Stage], ...] = tuple(
            (name, by_name[name]) for name in STAGES if name not in off
        )
        self._run: tuple[Stage, ...] = tuple(fn for _, fn in self.stages)

    # -- life cycle ------------------------------------------------------------------

    def start(self, *, reconcile_in_background: bool = False) -> Gateway:
        """Rebuild state from the journal, join the control plane under a lease, then
        reconcile with the venue (reconcile.py) before the gate opens: orders are refused
        VENUE_RECONCILING until it is done, and for good if the venue cannot answer.
        `reconcile_in_background`: return at once and reconcile on a thread of its own
        (`wait_reconciled`), for a venue that connects after the start (serve's FIX)."""
        self.reconciler.hold()
        with self._lock:
            self.state.fold(self.journal)
            self._handed_seq = self.journal.durable_seq
            self.releaser.start(self.journal.durable_seq)  # recovered: reconciled below
            if self.state.limits_digest != self._limits_digest:
                self._record(LimitsLoaded(self._clock(), self._limits_digest,
                                          self.book.limits.canonical_json()))  # fmt: skip
            journaled = self.halts.records()
            self.fleet_limits.attest_in_force()
        self.adv.at_start()  # the journaled ADV figures are back; the file may be newer
        self.journal.on_durable(self._on_durable)
        self.journal.on_status(self.journal_watch.changed)
        self.fleet.join(journaled)
        if not self.journal.available:  # down before the callback was there
            self.journal_watch.changed(self.journal.status)
        if reconcile_in_background:
            threading.Thread(target=self.reconciler.run, name=f"reconcile-{self.instance_id}",
                             daemon=True).start()  # fmt: skip
        else:
            self.reconciler.run()
        return self

    def wait_reconciled(self, timeout: float | None = None) -> ReconcileReport | None:
        """The start's reconciliation report once it is done (None: not within `timeout`);
        its `error` is set if it failed and the instance stays closed."""
        self.reconciler.done.wait(timeout)
        return self.reconciler.report

    def close(self) -> None:
        """Leave the plane; release what is durable (its `Routed` records are then
        committed by the journal's close), close the journal, stop the release loop."""
        self.fleet.leave()
        try:
            self.journal.flush(5.0)
            self.releaser.wait(self.journal.durable_seq, 5.0)
        except JournalError as exc:
            _log.error("closing with records not released: %s", exc)
        self.journal.close()
        self.releaser.close()

    @property
    def attestation(self) -> Attestation:
        """What this instance attests now (a fleet limit change re-attests it)."""
        return self.fleet.attestation

    def _other_members(self) -> list[str]:
        """The live members but this one, from the gate's cache (no control-plane call)."""
        return sorted(set(dict(self.gate.members)) - {self.instance_id})

    def _limits_swapped(self, limits: LimitsConfig) -> None:
        """An applied limit change (live or folded): decisions now cite the new limits."""
        self._limits_digest = limits.digest()

    def _record(self, event: Event, order: Order | None = None) -> int:
        """Append `event` to the journal (no I/O: the writer thread commits it), then apply
        it: the one way state changes. Under the lock."""
        seq = self.journal.append(event)
        self.state.apply(seq, event, order)
        if self.journal_watch.refusal is not None:  # unavailable: is the backlog over its bound?
            self.journal_watch.check_backlog()
        return seq

    # -- the order path --------------------------------------------------------------

    def submit(
        self,
        request: OrderRequest,
        caller: Caller,
        on_ack: Ack | None = None,
        on_accept: Accept | None = None,
    ) -> Decision:
        """Decide `request` for `caller` (a Principal this gateway's `auth` issued, or an API
        key); the decision at once. `on_ack(decision)`: once durable (and, if accepted,
        released), outside the lock. `on_accept(order)`: for an accepted order only, at
        once, under the lock, before the order can reach the venue (so before any fill or
        cancel of it): a transport learns the order id first. It must be cheap and never
        call the gateway."""
        with self._lock:
            t0 = _perf_ns()
            c = self._ctx
            c.now = self._clock()
            c.request = request
            c.caller = caller
            c.order = c.principal = None  # type: ignore[assignment]
            outcome: Rejection | Decision | None = None
            for stage in self._run:  # STAGES, in order: the first refusal is the answer
                outcome = stage(c)
                if outcome is not None:
                    break
            if outcome.__class__ is Decision:  # a known key: the first decision again
                decision: Decision = outcome
                ack_now = self._replayed(decision, on_ack)
            else:
                decision = self._decide(c, outcome, on_ack)  # type: ignore[arg-type]
                ack_now = False
                if outcome is None:
                    if on_accept is not None:
                        self._hand_over(c.order, on_accept)
                elif decision.seq == 0:  # refused unjournaled (journal down): answer now
                    ack_now = on_ack is not None
            rejection = decision.rejection
            self.stats.record(None if rejection is None else rejection.code, _perf_ns() - t0)
        if ack_now:
            on_ack(decision)  # type: ignore[misc]
        if self._cancels_now:
            with self._lock:
                due, self._cancels_now = self._cancels_now, []
            self._cancels_out(due)
        if _decisions_log.isEnabledFor(_INFO):  # off unless serve configured logging
            self._log_decision(request, decision)
        if self.monitor.pending:
            self.self_halts.fire()
        return decision

    @staticmethod
    def _log_decision(request: OrderRequest, decision: Decision) -> None:
        r = decision.rejection
        code = "accepted" if r is None else r.code.value
        _decisions_log.info(
            "%s %s: %s", getattr(request, "client_order_id", "?"), code,
            "accepted" if r is None else r.message,
            extra={"event": "order.decided", "order_id": decision.order_id, "code": code,
                   "seq": decision.seq},
        )  # fmt: skip

    def _replayed(self, decision: Decision, on_ack: Ack | None) -> bool:
        """A replay's ack: queued until its record is durable; True if it is already (the
        caller acks once the lock is let go)."""
        if on_ack is None:
            return False
        if self.journal.durable_seq < decision.seq:
            self._pending.append((decision.seq, None, decision, on_ack))
            return False
        return True

    def _hand_over(self, order: Order, on_accept: Accept) -> None:
        """Tell the transport of an accepted order, under the lock: the release loop cannot
        have it yet. A failing callback is logged: the order is journaled and stands."""
        try:
            on_accept(order)
        except Exception:
            _log.exception("accept callback failed for order %d", order.order_id)

    # the stages, in STAGES' order: each refuses (a Rejection) or lets the order on (None)

    def _stage_journal(self, c: OrderContext) -> Rejection | None:  # 0: one attribute read
        return self.journal_watch.refusal

    def _stage_decode(self, c: OrderContext) -> Rejection | None:  # 1
        order = decode(c.request, self.instruments, self.book, "", c.now)
        if order.__class__ is not Order:
            return order  # type: ignore[return-value]
        c.order = order
        return None

    def _stage_authenticate(self, c: OrderContext) -> Rejection | None:  # 2
        principal = self.auth.authorize(c.caller, c.request)
        if principal.__class__ is not Principal:
            return principal  # type: ignore[return-value]
        c.principal = principal
        c.order.principal = principal.name
        return None

    def _stage_replay(self, c: OrderContext) -> Rejection | Decision | None:  # 5
        if c.request.idempotency_key is None:
            return None
        return self.state.keys.lookup(c.principal.name, c.request)

    def _stage_instance_gate(self, c: OrderContext) -> Rejection | None:  # 3
        gate = self.gate  # two reads of a cache, unless it is closed
        if gate.open and c.now < gate.lease_deadline:
            return None
        return gate.check(c.now)

    def _stage_kill_switch(self, c: OrderContext) -> Rejection | None:  # 4
        if not self.halts.any:
            return None
        rejection = self.halts.check(c.order)
        if rejection is not None and self.self_halts.passes_loss_halt(c.order):
            return None
        return rejection

    def _stage_readiness(self, c: OrderContext) -> Rejection | None:  # 4b: one attribute read
        return self.preopen.refusal

    def _stage_fleet_budget(self, c: OrderContext) -> Rejection | None:  # 6: fleet-wide
        order = c.order
        spec = self.budgets.specs.get((order.account, order.symbol))  # type: ignore[union-attr]
        if spec is None:
            return None
        need = self._exposure(order.account, order.symbol, order.sign * order.qty)
        return self.budgets.admit(spec, need)  # type: ignore[union-attr]

    def _decide(self, c: OrderContext, rejection: Rejection | None, on_ack: Ack | None) -> Decision:
        """Steps 7 and 8: record the decision (append only: no I/O here) and apply it, which
        reserves an accepted order and binds its idempotency key; queue the ack; feed the
        runaway monitors (every authenticated decision that is no replay, and a refused key's
        orders on its own accounts: a loop)."""
        request, order = c.request, c.order
        name = "" if c.principal is None else c.principal.name
        if rejection is None:
            if self.book.stp_cancel_oldest:  # self-trade prevention: the crossed go first
                self._cancel_crossed(order, name, c.now)
            order.order_id = self.state.next_order_id
            event = OrderDecided(  # positional, in field order (events.py), as new_order does
                c.now, name, request, order.order_id, order.price, order.value_ticks,
                "", "", "", "", self._limits_digest, "", _SESSION_TEXT[order.session],
            )  # fmt: skip
            seq = self.journal.append(event)  # `_record`, inline on the hot path
            self.state.apply(seq, event, order)
            decision = Decision(order.order_id, None, seq)
            self._pending.append((seq, order, decision, on_ack))
            self.monitor.on_decision(self.instance_id, request, decision, c.now)
            return decision
        if rejection.code is _JOURNAL_UNAVAILABLE:  # nothing can be made durable: answered,
            return Decision(None, rejection, 0)  # not journaled (seq 0), not fed to monitors
        schema = rejection.code is _SCHEMA_INVALID  # garbage is kept only as its repr
        event = OrderDecided(  # positional, in field order, as above
            c.now, name, None if schema else request, None, 0, 0,  # ... price, value_ticks
            _CODE_TEXT[rejection.code], rejection.reason, render(rejection.limit),
            render(rejection.attempted), self._limits_digest,
            ascii(request)[:2_000] if schema else "", "",  # raw (garbage only), session
        )  # fmt: skip
        seq = self._record(event)
        decision = Decision(None, rejection, seq)
        if on_ack is not None:
            self._pending.append((seq, None, decision, on_ack))
        if c.principal is not None:  # every authenticated decision that is no replay
            if rejection.code is not _IDEMPOTENCY_CONFLICT:
                self.monitor.on_decision(self.instance_id, request, decision, c.now)
        elif c.order is not None:  # refused at authentication: a loop on its own account?
            known = self.auth.known(c.caller)  # authorize cached it if the key is good
            if known is not None and request.account in known.accounts:
                self.monitor.on_decision(self.instance_id, request, decision, c.now)
        return decision

    def _cancel_crossed(self, order: Order, who: str, now: int) -> None:
        """Mode cancel_oldest: cancel every open order of `order`'s group it would trade
        with, before `order` is recorded (under the lock), through the one cancel path: in
        place if not yet released, CANCEL_ON_RELEASE if being handed over, at the venue
        once its CancelRequested is durable (the release loop sends due cancels before
        the orders of its batch, so the venue gets the cancel before the new order)."""
        crossing = self.book.crossing
        if crossing.crossed(order) is None:
            return
        why = f"self-trade prevention: crossed by {order.side.value} {order.symbol} of {who}"
        resting = [o for o in self.book.open_orders.values() if crossing.crosses(order, o)]
        for o in resting:
            self._record(CancelRequested(now, o.order_id, who, why))
            if self._cancel_locked(o, now, why):
                self._cancels_now += self._send_cancel(o.order_id)

    def _on_durable(self, durable_seq: int) -> None:
        """Journal commit callback, on the committing thread: ack the durable refusals, and
        hand the accepted orders (and replays of them, and cancels whose record is now
        durable) to the release loop. No venue call here: a slow venue must not hold up
        the commits and acks of records that need none."""
        acks: list[tuple[Decision, Ack]] = []
        with self._lock:
            pending = self._pending
            out = self._to_release
            inline = not self.releaser.threaded  # nothing to stall: every ack in journal order
            while pending and pending[0][0] <= durable_seq:
                entry = pending.popleft()
                if inline or entry[2].order_id is not None:
                    out.append(entry)  # accepted: acked once released
                elif entry[3] is not None:
                    acks.append((entry[2], entry[3]))
            cancels = self._cancels
            while cancels and cancels[0][0] <= durable_seq:
                self._cancels_due.append(cancels.popleft()[1])
            self._handed_seq = max(self._handed_seq, durable_seq)
        for decision, on_ack in acks:
            self._ack(decision, on_ack)
        self.releaser.handed(durable_seq)

    def _release(self, durable_seq: int) -> None:
        """The release loop's turn (one thread, journal order): send what was handed over.

        The lock is taken twice per batch, never per order. First the batch's pending orders
        become RELEASING; then each is sent, outside the lock, unless a halt or cancel
        marked it CANCEL_ON_RELEASE before its turn (a read of its status). Then, under
        the lock again, those sent become WORKING and get their `Routed` record, and those
        marked while (or before) being sent are cancelled at the venue (sent) or in place
        (never sent). A cancel is never sent before the venue has the order, and nothing
        here waits on a halt.
        """
        with self._lock:  # the handed entries as they are: no new tuple an order
            released, self._to_release = self._to_release, deque()
            for entry in released:
                order = entry[1]
                # not PENDING: cancelled in place by a halt or cancel before it could leave
                if order is not None and order.status is _PENDING:
                    order.status = _RELEASING
            due, self._cancels_due = self._cancels_due, []
        for order_id in due:  # cancels first: a crossed order leaves before its crosser
            self._venue_cancel(order_id)
        to_cancel: list[int] = []
        sent: list[Order] = []
        held: list[Order] = []
        for entry in released:  # every order out first: one caller's ack can't hold it
            order = entry[1]
            if order is not None:
                status = order.status
                if status is not _RELEASING:
                    if status is _CANCEL_ON_RELEASE:  # marked by a halt or cancel before it
                        held.append(order)  # left: never sent (a cancelled one: nothing)
                    continue
                try:
                    self.venue.send(order)
                except Exception as exc:  # the venue never got it: release its reservation
                    _log.exception("venue send failed for order %d", order.order_id)
                    self.on_rejected(order.order_id, f"venue send failed: {exc!r}")
                    continue
                sent.append(order)
        if sent or held:
            with self._lock:
                now = self._clock()
                try:
                    for order in sent:
                        self._record(Routed(now, order.order_id))
                        if order.status is _RELEASING:
                            order.status = _WORKING
                        elif order.status is _CANCEL_ON_RELEASE:  # marked while being sent
                            order.status = _WORKING  # at the venue now: its cancel goes next
                            to_cancel += self._send_cancel(order.order_id)
                    for order in held:
                        if order.status is _CANCEL_ON_RELEASE:
                            self._record(Cancelled(now, order.order_id, order.leaves,
                                                   "cancelled before release"))  # fmt: skip
                except JournalError:  # the orders stand as they are in memory
                    _log.exception("could not journal the release of a batch")
        self._cancels_out(to_cancel)
        for _, _, decision, on_ack in released:
            if on_ack is not None:
                self._ack(decision, on_ack)

    @staticmethod
    def _ack(decision: Decision, on_ack: Ack) -> None:
        try:
            on_ack(decision)
        except Exception:
            _log.exception("ack callback failed for decision seq %d", decision.seq)

    def _send_cancel(self, order_id: int) -> list[int]:
        """The one rule for when a venue cancel goes (under the lock, after its record, a
        CancelRequested or HaltApplied, was appended): the order ids to cancel now, outside
        the lock (none: queued for the release loop).

        Durable first: the cancel waits for the journal to commit everything appended so
        far (its record with it), then goes through the release loop in journal order, so
        after a crash the journal knows every cancel that was sent. Unless the journal is
        unavailable (`available` False, or failed): then nothing becomes durable, and a
        cancel only reduces risk, so it goes at once, and those queued go with it; the
        start's reconciliation with the venue covers what the journal missed."""
        if self.journal.available:
            seq = self.journal.last_seq
            if seq > self._handed_seq:
                self._cancels.append((seq, order_id))
                return []
            return [order_id]  # already durable (marked while its order was being sent)
        now = [oid for _, oid in self._cancels]  # queued for a commit that is not coming
        self._cancels.clear()
        now.append(order_id)
        return now

    def _cancels_out(self, now: list[int]) -> None:
        """Outside the lock: send the cancels due now. A journal without a writer thread
        commits only in its caller's `flush`: commit the queued ones here (their release
        then sends them), so a cancel never waits on a commit nobody will make."""
        for order_id in now:
            self._venue_cancel(order_id)
        if self._cancels and not self.releaser.threaded:
            try:
                self.journal.flush()
            except JournalError:
                _log.exception("could not commit the records of %d cancels", len(self._cancels))

    def _venue_cancel(self, order_id: int) -> None:
        try:
            self.venue.cancel(order_id)
        except Exception:
            _log.exception("venue cancel failed for order %d", order_id)

    def wait(self, decision: Decision, timeout: float | None = 5.0) -> Decision:
        """Block until `decision` is durable and, if accepted, released; return it.
        JournalError if that does not happen within `timeout`."""
        if self.releaser.done < decision.seq:
            if self.journal.durable_seq < decision.seq:
                self.journal.flush(timeout)
            if decision.order_id is not None and not self.releaser.wait(decision.seq, timeout):
                raise JournalError(f"decision seq {decision.seq} durable, not released within "
                                   f"{timeout}s (venue slow?)")  # fmt: skip
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

    # -- the fleet, through the facade ---------------------------------------------------

    @property
    def flags(self) -> FlagSet:
        """The flags on for this build, as the control plane last said (read without a lock)."""
        return self.fleet.flags

    @property
    def trip_reports(self) -> list[tuple[Trip, HaltReport]]:
        return self.self_halts.trip_reports

    def halt(self, scope: HaltScope, target: str, reason: str, who: str) -> HaltReport:
        """Write a halt and wait until every live member confirmed it (or the bound)."""
        return self.fleet.halt(scope, target, reason, who)

    def resume(self, scope: HaltScope, target: str, who: str) -> bool:
        """Lift a halt; False, and nothing lifted, while `resume_refusal()` says why not."""
        refusal = self.resume_refusal()
        if refusal is not None:
            _log.error("resume of %s:%s by %s refused: %s", scope.value, target, who, refusal)
            return False
        return self.fleet.resume(scope, target, who)

    def resume_refusal(self) -> Rejection | None:
        """JOURNAL_UNAVAILABLE while the journal is down (or the instance stopped for good
        after it): nothing may resume then. None: a resume may go ahead."""
        return self.journal_watch.refusal

    def heartbeat(self) -> bool:
        return self.fleet.heartbeat()

    def start_heartbeat(self, interval_s: float | None = None) -> threading.Thread:
        return self.fleet.start_heartbeat(interval_s)

    def _record_locked(self, event: Event) -> int:
        with self._lock:
            return self._record(event)

    def _observe_readiness(self) -> Observed:
        """The state the readiness gate judges (preopen.py), read off the order path."""
        try:
            release: Release | None = self.plane.release()
            members = tuple(self.plane.members())
        except ControlPlaneError:
            release, members = None, ()
        with self._lock:
            refs = {symbol: ref.ts for symbol, ref in self.book.refs.items()}
        refusal = self.journal_watch.refusal
        return Observed(
            release, members, "" if refusal is None else refusal.reason, refs,
            tuple(self.instruments), bool(getattr(self.venue, "logged_on", True)),
            type(self.venue).__name__,
        )  # fmt: skip

    def health(self) -> Health:
        """What a liveness probe shows: the gate's state now and how far the journal is."""
        gate, watch = self.gate, self.journal_watch
        refusal = watch.refusal
        if refusal is None:
            state = gate.state(self._clock())
            if state == "routing" and self.preopen.refusal is not None:
                state = self.preopen.refusal.code.value
            return Health(self.instance_id, state, self.journal.durable_seq,
                          gate.lease_deadline)  # fmt: skip
        code = refusal.code.value  # what the order path refuses with now, before the gate
        store = "available" if self.journal.available else code  # back, if stopped for good
        return Health(self.instance_id, code, self.journal.durable_seq, gate.lease_deadline,
                      store, watch.since_ns, refusal.reason)  # fmt: skip

    def fleet_snapshot(self) -> FleetSnapshot:
        """Release, members and halts as the control plane has them, and this gate (or
        JOURNAL_UNAVAILABLE: what the order path refuses with first)."""
        snap = self.fleet.snapshot()
        refusal = self.journal_watch.refusal
        if refusal is None:
            return snap
        return FleetSnapshot(snap.now, snap.release, snap.members, snap.halts,
                             refusal.code.value)  # fmt: skip

    def halts_in_force(self) -> list[HaltRecord]:
        """Every halt the control plane holds (this instance's view may lag it briefly)."""
        return self.fleet.plane.halts()

    def _exposure(self, account: str, symbol: str, signed_qty: int) -> int:
        """Worst case (long or short, shares) of the line with `signed_qty` more on order."""
        acct = self.book.accounts.get(account)
        p = acct.positions.get(symbol) if acct is not None else None
        if p is None:
            return abs(signed_qty)
        long, short = worst_case(p.pos, p.open_buy, p.open_sell, signed_qty)
        return long if long > short else short

    # -- halts applied to the orders ------------------------------------------------------

    def _apply_halt(self, h: HaltRecord) -> None:
        """Apply a halt: refuse what it covers, cancel its open orders, confirm it.

        Pending orders are cancelled in place (they never leave); orders being handed over
        are marked CANCEL_ON_RELEASE, and the release loop cancels them once the venue has
        them; working orders get a venue cancel once the HaltApplied is durable
        (`_send_cancel`: at once if the journal is unavailable). Nothing here waits for the
        release loop, so a halt set off from inside a venue callback on the releasing
        thread cannot deadlock. The confirmation carries how many covered orders are still
        open once the cancels were sent or queued: those the venue has yet to confirm
        cancelled.
        """
        to_cancel: list[int] = []
        with self._lock:
            now = self._clock()
            covered = [o for o in self.book.open_orders.values() if self.halts.covers(h, o)]
            for order in covered:  # first stop what is being handed over, then say halted:
                if order.status is _RELEASING:  # the release loop reads this outside the lock
                    order.status = _CANCEL_ON_RELEASE
            if self.halts.get(h.scope, h.target) != h:  # a record already applied is not new
                self._record(HaltApplied(now, h.scope, h.target, h.reason, h.who, h.ts))
                fields = {"event": "halt.applied", "scope": h.scope.value, "target": h.target,
                          "who": h.who, "reason": h.reason}  # fmt: skip
                _log.warning("halt %s:%s by %s: %s", h.scope.value, h.target, h.who, h.reason,
                             extra=fields)  # fmt: skip
            why = f"halt {h.scope.value}:{h.target}"
            for order in covered:
                if self._cancel_locked(order, now, why):
                    to_cancel += self._send_cancel(order.order_id)
        self._cancels_out(to_cancel)
        with self._lock:
            pending = sum(1 for order in covered if order.status <= _WORKING)
        self.fleet.confirm(h, pending)

    def _cancel_everything(self, why: str) -> int:
        """Cancel every open order of this instance (the journal backlog overflowed): in
        place before release, at the venue once working. How many went to the venue."""
        to_cancel: list[int] = []
        with self._lock:
            now = self._clock()
            working = [o.order_id for o in list(self.book.open_orders.values())
                       if self._cancel_locked(o, now, why)]  # fmt: skip
            for order_id in working:
                to_cancel += self._send_cancel(order_id)
        self._cancels_out(to_cancel)
        return len(working)

    def _cancel_locked(self, order: Order, now: int, reason: str) -> bool:
        """Cancel an open order (under the lock); True if it is working and the venue must
        cancel it now. Pending: cancelled in place. Being handed over: marked, and the
        release loop cancels it once `venue.send` returned (a cancel sent now could reach
        the venue before the order does, be refused as unknown, and leave it resting)."""
        status = order.status
        if status is _PENDING:
            self._record(Cancelled(now, order.order_id, order.leaves, f"{reason} (before release)"))
            return False
        if status is _RELEASING:
            order.status = _CANCEL_ON_RELEASE
            return False
        return status is _WORKING

    def _lift_halt(self, scope: HaltScope, target: str, who: str) -> bool:
        """A person lifted a halt (under the lock): the monitors may trip on it again, and
        the lift is journaled if the halt was in force here (True then). This instance's
        own halt stays while its journal is unavailable (lifted in the plane elsewhere, it
        is kept here: a person resumes it here once the journal is back)."""
        if self.journal_watch.holds(scope, target):
            return False
        self.monitor.rearm(scope, target)
        if self.halts.get(scope, target) is None:
            return False
        self._record(HaltLifted(self._clock(), scope, target, who))
        _log.warning("halt %s:%s lifted by %s", scope.value, target, who,
                     extra={"event": "halt.lifted", "scope": scope.value, "target": target,
                            "who": who})  # fmt: skip
        return True

    # -- other commands --------------------------------------------------------------

    def cancel(
        self,
        order_id: int,
        caller: Caller,
        reason: str = "cancel requested",
        *,
        throttled: bool = True,
    ) -> Rejection | None:
        """Cancel an order. Cancels pass while halted or fenced: they only reduce risk.
        Every cancel is a message of its session (risk/messages.py); one over the
        throttle is refused MESSAGE_RATE unless `throttled` is False: a cancel Interlock
        itself owes (the old half of a replace, cancel on disconnect, a mass cancel's
        orders after the one check of the request), which is counted but never refused."""
        if order_id.__class__ is not int:  # a list or a str would raise out of the lookup
            return reject(
                RejectCode.SCHEMA_INVALID,
                f"order id must be a whole number, got {ascii(order_id)[:40]}",
                limit="an open order id",
                attempted=ascii(order_id)[:40],
            )
        with self._lock:
            principal = self.auth.resolve(caller)
            if principal is None:
                return reject(
                    RejectCode.UNAUTHENTICATED,
                    f"API key not recognised: caller may not cancel order {order_id}",
                    limit="a trading API key",
                    attempted="unknown key",
                )
            order = self.book.orders.get(order_id)
            if order is None or order.account not in principal.accounts:
                return self._not_found(order_id)  # another account's order: the same answer
            if not order.status.is_open:
                return reject(
                    RejectCode.ORDER_NOT_OPEN,
                    f"order {order_id} is not open: it is {order.status.name.lower()}",
                    limit="an open order",
                    attempted=order.status.name.lower(),
                )
            now = self._clock()
            if throttled:
                refusal = self.book.messages.refusal(principal.name, now, "cancel")
                if refusal is not None:
                    return refusal
            self._record(CancelRequested(now, order_id, principal.name, reason))
            working = self._cancel_locked(order, now, reason)
            to_venue = self._send_cancel(order_id) if working else []
        self._cancels_out(to_venue)
        return None

    def throttled(self, principal: Principal, what: str) -> Rejection | None:
        """MESSAGE_RATE if one more message of `principal`'s session now would pass the
        message throttle (for a request that checks once, then cancels many)."""
        with self._lock:
            return self.book.messages.refusal(principal.name, self._clock(), what)

    @staticmethod
    def _not_found(order_id: int) -> Rejection:
        """One answer for an id that is unknown and for another account's order: a caller
        must not learn that someone else's order id exists."""
        return reject(
            RejectCode.ORDER_NOT_FOUND,
            f"no order {order_id} among the caller's accounts",
            limit="an order of the caller's accounts",
            attempted=order_id,
        )

    def declare_parent(self, parent: ParentOrder, caller: Caller) -> Rejection | None:
        with self._lock:
            principal = self.auth.resolve(caller)
            if principal is None:
                return reject(
                    RejectCode.UNAUTHENTICATED,
                    f"API key not recognised: caller may not declare parent {parent.parent_id}",
                    limit="a trading API key",
                    attempted="unknown key",
                )
            if parent.account not in principal.accounts:
                return reject(
                    RejectCode.NOT_ACCOUNT_OWNER,
                    f"principal {principal.name} may not declare parents for account "
                    f"{parent.account}",
                    limit="an account of the caller",
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
                first = known.parent  # another account's terms are not the caller's to see
                terms = (
                    f" as {first.account} {first.side.value} {first.quantity:,} {first.symbol}"
                    if first.account in principal.accounts
                    else " by another account"
                )
                return reject(
                    RejectCode.PARENT_CONFLICT,
                    f"parent {parent.parent_id} is already declared{terms}",
                    limit="one declaration per parent id",
                    attempted=f"{parent.account} {parent.side.value} {parent.quantity:,} "
                    f"{parent.symbol}",
                )
            self._record(ParentDeclared(self._clock(), parent))
            return None

    def add_locate(
        self,
        locate_id: str,
        account: str,
        symbol: str,
        quantity: int,
        expires_ns: int,
        source: str,
        who: str,
    ) -> Rejection | None:
        """An operator's locate (locate_admin.py): journaled, then in force for `account`'s
        short sales in `symbol` until `expires_ns` (this gateway's clock). None: added, or
        the same locate again."""
        traded = frozenset(a for k in self.config.api_keys for a in k.accounts)
        with self._lock:
            ev = LocateAdded(self._clock(), locate_id, account, symbol, quantity, expires_ns,
                             source, who)  # fmt: skip
            refusal = locate_refusal(self.book, traded, ev)
            if refusal is None and locate_id not in self.book.locates.by_id:
                self._record(ev)
            return refusal

    def locates(self) -> list[Locate]:
        """Every locate added, by id, with what fills used and open short sales hold
        (copies: a snapshot taken under the lock)."""
        with self._lock:
            return [
                Locate(
                    loc.locate_id,
                    loc.account,
                    loc.symbol,
                    loc.quantity,
                    loc.expires_ns,
                    loc.source,
                    loc.who,
                    loc.used,
                    loc.reserved,
                )
                for _, loc in sorted(self.book.locates.by_id.items())
            ]

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
            breached = self.self_halts.loss_breaches(holders) if holders else ()
        for account, reason in breached:  # a mark alone can breach: it halts as a fill does
            self.self_halts.halt_for_loss(account, reason)

    # -- venue events (ExecutionSink) ------------------------------------------------

    refused_fills = 0
    """Fills refused because their order was never handed to the venue (see `on_fill`)."""

    def on_fill(self, order_id: int, qty: int, price: int, exec_id: str) -> bool:
        """Take a fill; False if it is dropped: a resend of an exec id already taken (this
        run or, through recovery, any before it) or a fill for an order never released.
        The one de-duplication of fills: the `ExecutionTap` tells listeners only on True."""
        order = self.book.orders.get(order_id)  # a venue cannot fill what it was never sent:
        if order is not None and order.status is _PENDING:  # (PENDING ends before `send`)
            self._refuse_fill(order, qty, price, exec_id)
            return False
        with self._lock:
            if exec_id:
                seen = (order_id, exec_id)
                if seen in self.state.exec_ids:  # a venue resending after a reconnect
                    _log.warning("duplicate execution %s for order %d ignored", exec_id, order_id)
                    return False
            now = self._clock()
            self._record(Filled(now, order_id, qty, price, exec_id))
            self.stats.fills += 1
            if order is None:  # ids are only ever added, under the lock: read it again
                order = self.book.orders.get(order_id)
                if order is None:
                    return True  # journaled as a fact, though no order of ours matches it
            notional = qty * price * order.instrument.tick_micros
            self.monitor.on_fill(self.instance_id, order.account, qty, notional, now)
            breached = self.self_halts.loss_breaches((order.account,))
        for account, reason in breached:
            self.self_halts.halt_for_loss(account, reason)
        if self.monitor.pending:
            self.self_halts.fire()
        return True

    def on_cancelled(self, order_id: int, qty: int, reason: str) -> None:
        with self._lock:
            order = self.book.orders.get(order_id)
            released = order.leaves if order is not None else 0
            self._record(Cancelled(self._clock(), order_id, released, reason))

    def on_rejected(self, order_id: int, reason: str) -> None:
        with self._lock:
            self._record(VenueRejected(self._clock(), order_id, reason))

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
        strategy (None: any). Live objects, like `order()`: a view, not a snapshot. Read
        from the open index, not every order of the day: mass cancel and the REST list cost
        what is open, not what has traded (the soak's day holds millions of ended orders)."""
        with self._lock:
            return [
                o
                for o in self.book.open_orders.values()
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
        filters; the ids a cancel was requested for. An unknown key: UNAUTHENTICATED;
        another account: NOT_ACCOUNT_OWNER; a session over the message throttle:
        MESSAGE_RATE (checked once for the request)."""
        principal = self.auth.resolve(caller)
        if principal is None:
            return reject(
                RejectCode.UNAUTHENTICATED,
                "API key not recognised: caller may not mass cancel",
                limit="a trading API key",
                attempted="unknown key",
            )
        if account is not None and account not in principal.accounts:
            return reject(
                RejectCode.NOT_ACCOUNT_OWNER,
                f"principal {principal.name} may not cancel orders of account {account}",
                limit="an account of the caller",
                attempted=account,
            )
        refusal = self.throttled(principal, "mass cancel")  # one request: checked once
        if refusal is not None:
            return refusal
        targets = [
            o.order_id
            for o in self.open_orders(account, symbol, strategy)
            if o.account in principal.accounts
        ]
        return [
            oid for oid in targets if self.cancel(oid, principal, reason, throttled=False) is None
        ]
