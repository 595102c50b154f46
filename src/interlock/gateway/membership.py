"""The gateway as a fleet member: join under a lease, heartbeat, watch the control plane,
apply and confirm halts, hold budget slices, keep its flags current, journal the releases
and flag changes it observes.

A mixin of `Gateway`, kept apart so the order path (gateway.py) reads on one screen. The
watch callback never takes the gateway lock for membership events (they only touch the
gate, under its own lock), because the plane may announce a lost member from inside a
call the gateway makes while holding that lock (asking for budget slice).

Flags: `self.flags` is a FlagSet of this build's manifest and the ids the plane says are on,
replaced whole on each change (router code reads it without a lock). Ids, never names, come
from the plane, so a build that believes 'rlp' is id 1 keeps its 'rlp' off when id 2 is
switched on. A build whose beliefs disagree with the registry at all is refused by the
plane, and that verdict goes to the gate (INSTANCE_NOT_ATTESTED): it routes nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from interlock.control.budgets import BudgetSpec, FleetBudgets
from interlock.control.fleetflags import declared
from interlock.control.gate import InstanceGate
from interlock.control.halts import HaltReport, halt_fleet
from interlock.control.killswitch import HaltView
from interlock.control.plane import (
    Attestation,
    ControlEvent,
    ControlPlane,
    FlagChanged,
    HaltConfirmed,
    HaltPut,
    HaltRecord,
    HaltRemoved,
    MemberJoined,
    MemberLost,
    ProposalAborted,
    ProposalPut,
    ReleaseChanged,
)
from interlock.domain.enums import HaltScope, OrderStatus
from interlock.domain.events import (
    Cancelled,
    DeployAborted,
    DeployCommitted,
    DeployProposed,
    HaltApplied,
    HaltLifted,
)
from interlock.domain.order import Order
from interlock.errors import ControlPlaneError
from interlock.flags.runtime import FlagSet
from interlock.gateway.config import GatewayConfig
from interlock.journal.base import Journal
from interlock.observe import RunawayMonitor
from interlock.risk.book import Book
from interlock.risk.exposure import worst_case
from interlock.venue.base import Venue

_PENDING = OrderStatus.PENDING
_RELEASING = OrderStatus.RELEASING
_CANCEL_ON_RELEASE = OrderStatus.CANCEL_ON_RELEASE
_WORKING = OrderStatus.WORKING


class FleetMember:
    # provided by Gateway.__init__
    config: GatewayConfig
    instance_id: str
    journal: Journal
    venue: Venue
    plane: ControlPlane
    book: Book
    attestation: Attestation
    gate: InstanceGate
    flags: FlagSet
    halts: HaltView
    budgets: FleetBudgets | None
    monitor: RunawayMonitor
    _clock: Callable[[], int]
    _lock: threading.Lock
    _unwatch: Callable[[], None] | None
    _stop_heartbeat: threading.Event
    _flags_version: int = -1  # the registry version `flags` reflects

    def _set_flags(self, enabled: frozenset[int], version: int) -> None:
        """Adopt the ids on as of registry `version`, unless a newer view was adopted."""
        if version > self._flags_version:
            self._flags_version = version
            self.flags = FlagSet(declared(self.attestation), enabled)

    def _join_fleet(self, journaled: list[HaltRecord]) -> None:
        """Watch the plane, reconcile halts with the journal's, register and attest, then
        ask for the budget slices the recovered positions and open orders already use.

        Halts: the journal's survive a restart of the embedded plane (which forgets them);
        the plane's that this instance never applied (set while it was down) are applied
        now, through the same path as a live halt, so they cancel what they cover.
        """
        self._unwatch = self.plane.watch(self._on_control)
        known = {h.key for h in journaled}
        in_force = {h.key: h for h in self.plane.halts()}
        with self._lock:
            for h in journaled:
                self.halts.put(h)
        for h in journaled:
            if h.key not in in_force:
                self.plane.put_halt(h)
        for key, h in in_force.items():
            if key not in known:
                self._apply_halt(h)
        deadline = self.plane.register(self.attestation, self.config.lease_ttl_ms * 1_000_000)
        registry = self.plane.flag_registry()  # then members: their verdicts are as new
        version = len(registry.history)
        self.gate.joined(deadline, self.plane.release(), self.plane.members(), version)
        with self._lock:
            self._set_flags(registry.enabled_ids(), version)
        if self.budgets is not None:  # take back the slices the recovered exposure needs
            with self._lock:
                for spec in self.budgets.specs.values():
                    need = self._exposure(spec.account, spec.symbol, 0)
                    if need > 0:
                        self.budgets.admit(spec, need)

    def _fleet_budgets(self) -> FleetBudgets:
        """Slices of the configured fleet budgets; each limit is the account's own."""
        specs = []
        for b in self.config.fleet.budgets:
            risk = self.book.account(b.account).risk
            limit = risk.position_overrides.get(b.symbol, risk.max_position)
            specs.append(BudgetSpec(b.account, b.symbol, limit, b.slice_shares))
        return FleetBudgets(self.plane, self.instance_id, specs)

    def _exposure(self, account: str, symbol: str, signed_qty: int) -> int:
        """Worst case (long or short, shares) of the line with `signed_qty` more on order."""
        acct = self.book.accounts.get(account)
        p = acct.positions.get(symbol) if acct is not None else None
        if p is None:
            return abs(signed_qty)
        long, short = worst_case(p.pos, p.open_buy, p.open_sell, signed_qty)
        return long if long > short else short

    # -- lease -----------------------------------------------------------------------------

    def start_heartbeat(self, interval_s: float | None = None) -> threading.Thread:
        """Renew the lease from a daemon thread (every TTL/4 by default) until `close`.

        A renewal that fails is retried on the next beat; meanwhile the gate closes by
        itself once the deadline passes, so a partitioned instance stops within its TTL.
        """
        interval = interval_s or self.config.lease_ttl_ms / 4_000
        stop = self._stop_heartbeat

        def beat() -> None:
            while not stop.wait(interval):
                self.heartbeat()

        thread = threading.Thread(target=beat, name=f"{self.instance_id}-heartbeat", daemon=True)
        thread.start()
        return thread

    def heartbeat(self) -> bool:
        """Renew the lease and give back budget not in use. On failure the gate closes by
        itself when the deadline passes."""
        try:
            deadline = self.plane.renew(self.instance_id)
        except ControlPlaneError:
            return False
        self.gate.renewed(deadline)
        if self.budgets is not None:
            with self._lock:
                self.budgets.trim(lambda spec: self._exposure(spec.account, spec.symbol, 0))
        return True

    # -- kill switch -----------------------------------------------------------------------

    def halt(self, scope: HaltScope, target: str, reason: str, who: str) -> HaltReport:
        """Write a halt and wait until every live member confirmed it (or the bound)."""
        record = self._halt_record(scope, target, reason, who)
        return halt_fleet(self.plane, record, self.config.fleet.halt_confirm_ms)

    def resume(self, scope: HaltScope, target: str, who: str) -> bool:
        return self.plane.remove_halt(scope, "" if scope is HaltScope.GLOBAL else target, who)

    def _halt_record(self, scope: HaltScope, target: str, reason: str, who: str) -> HaltRecord:
        target = "" if scope is HaltScope.GLOBAL else target
        return HaltRecord(scope, target, reason, who, self._clock())

    def _apply_halt(self, h: HaltRecord) -> None:
        """Apply a halt: refuse what it covers, cancel its open orders, confirm it.

        Pending orders are cancelled in place (they never leave); orders being handed over
        are marked CANCEL_ON_RELEASE, and the release loop cancels them once the venue has
        them; working orders get a venue cancel. Nothing here waits for the release loop,
        so a halt set off from inside a venue callback on the releasing thread cannot
        deadlock. The confirmation carries how many covered orders are still open once the
        cancels were sent: those the venue has yet to confirm cancelled.
        """
        to_cancel: list[int] = []
        covered: list[Order] = []
        with self._lock:
            now = self._clock()
            if self.halts.get(h.scope, h.target) != h:  # a record already applied is not new
                self.halts.put(h)
                self.journal.append(HaltApplied(now, h.scope, h.target, h.reason, h.who))
            why = f"halt {h.scope.value}:{h.target}"
            for order in list(self.book.open_orders.values()):
                if self.halts.covers(h, order):
                    covered.append(order)
                    if self._cancel_locked(order, now, why):
                        to_cancel.append(order.order_id)
        for order_id in to_cancel:
            self.venue.cancel(order_id)
        with self._lock:
            pending = sum(1 for order in covered if order.status <= _WORKING)
        self.plane.confirm_halt(self.instance_id, h, pending)

    def _cancel_locked(self, order: Order, now: int, reason: str) -> bool:
        """Cancel an open order (under the lock); True if it is working and the venue must
        cancel it now. Pending: cancelled in place. Being handed over: marked, and the
        release loop cancels it once `venue.send` returned (a cancel sent now could reach
        the venue before the order does, be refused as unknown, and leave it resting)."""
        status = order.status
        if status is _PENDING:
            qty = self.book.apply_done(order, OrderStatus.CANCELLED)
            self.journal.append(Cancelled(now, order.order_id, qty, f"{reason} (before release)"))
            return False
        if status is _RELEASING:
            order.status = _CANCEL_ON_RELEASE
            return False
        return status is _WORKING

    # -- the watch -------------------------------------------------------------------------

    def _on_control(self, event: ControlEvent) -> None:
        """Control-plane watch: keep the gate's cache, apply halts, journal releases."""
        if isinstance(event, HaltConfirmed):
            return
        if isinstance(event, MemberJoined):
            self.gate.member_joined(event.member)
        elif isinstance(event, MemberLost):
            self.gate.member_lost(event.instance_id)
            if event.instance_id == self.instance_id and self.budgets is not None:
                self.budgets.lost()
        elif isinstance(event, HaltPut):
            self._apply_halt(event.halt)
        elif isinstance(event, FlagChanged):
            self.gate.flags_checked(dict(event.refused), event.version)  # refuse, then switch
            with self._lock:
                self._set_flags(event.enabled, event.version)
                self.journal.append(event.change)
        else:
            with self._lock:
                record = self._observe(event, self._clock())
                if record is not None:
                    self.journal.append(record)

    def _observe(
        self, event: HaltRemoved | ReleaseChanged | ProposalPut | ProposalAborted, now: int
    ) -> HaltLifted | DeployCommitted | DeployProposed | DeployAborted | None:
        """Take in a control event (under the lock); return its journal record, if new."""
        if isinstance(event, HaltRemoved):
            self.monitor.rearm(event.scope, event.target)  # a person lifted it: may trip again
            if self.halts.remove(event.scope, event.target) is None:
                return None
            return HaltLifted(now, event.scope, event.target, event.who)
        if isinstance(event, ReleaseChanged):
            r = event.release
            self.gate.release_changed(r)
            return DeployCommitted(now, r.build_digest, r.flag_digest, r.epoch, r.members,
                                   event.who)  # fmt: skip
        if isinstance(event, ProposalPut):
            p = event.proposal
            return DeployProposed(now, p.build_digest, p.flag_digest, p.members, p.base_epoch,
                                  p.who)  # fmt: skip
        p = event.proposal
        return DeployAborted(now, p.build_digest, p.flag_digest, event.who, event.reason)
