"""The instance as a fleet member: join under a lease, heartbeat, watch the control plane,
keep the instance gate's cache and the flags current, hold budget slices, write halts.

A component the `Gateway` holds (`gateway.fleet`), with its collaborators passed in: what
it needs of the instance is three calls (apply a halt to the orders, lift one, journal a
record) and a read of the exposure a budget must cover. The watch callback
never takes the gateway lock for membership events (they only touch the gate, under its
own lock), because the plane may announce a lost member from inside a call the gateway
makes while holding that lock (asking for budget slice).

Flags: `flags` is a FlagSet of this build's manifest and the ids the plane says are on,
replaced whole on each change (router code reads it without a lock). Ids, never names, come
from the plane, so a build that believes 'rlp' is id 1 keeps its 'rlp' off when id 2 is
switched on. A build whose beliefs disagree with the registry at all is refused by the
plane, and that verdict goes to the gate (INSTANCE_NOT_ATTESTED): it routes nothing.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from interlock.control.budgets import BudgetSpec, FleetBudgets
from interlock.control.fleet_halt import HaltReport, halt_fleet
from interlock.control.fleetflags import declared
from interlock.control.instance_gate import InstanceGate
from interlock.control.plane import (
    Attestation,
    ControlEvent,
    FlagChanged,
    HaltConfirmed,
    HaltPut,
    HaltRecord,
    HaltRemoved,
    Member,
    MemberJoined,
    MemberLost,
    Proposal,
    ProposalAborted,
    ProposalPut,
    Release,
    ReleaseChanged,
)
from interlock.control.ports import ControlPlane
from interlock.domain.enums import HaltScope
from interlock.domain.events import DeployAborted, DeployCommitted, DeployProposed, Event
from interlock.errors import ControlPlaneError, InstanceIdInUse
from interlock.flags.runtime import FlagSet
from interlock.gateway.config import GatewayConfig
from interlock.risk.book import Book

_log = logging.getLogger(__name__)

Exposure = Callable[[str, str, int], int]
"""(account, symbol, signed shares more on order) -> worst case of the line, in shares."""


@dataclass(frozen=True, slots=True)
class FleetSnapshot:
    """The fleet as this instance sees it, for an operator's status view."""

    now: int
    release: Release
    members: list[Member]
    halts: list[HaltRecord]
    gate: str  # 'routing', or the code this instance refuses orders with


class FleetMembership:
    def __init__(
        self,
        *,
        config: GatewayConfig,
        plane: ControlPlane,
        attestation: Attestation,
        gate: InstanceGate,
        book: Book,
        exposure: Exposure,
        apply_halt: Callable[[HaltRecord], None],
        lift_halt: Callable[[HaltScope, str, str], bool],
        record: Callable[[Event], int],
        lock: threading.Lock,
        clock: Callable[[], int],
    ) -> None:
        """The instance's side: `apply_halt` refuses what a halt covers, cancels its open
        orders and confirms it (it takes the lock); `lift_halt` journals a lifted halt if it
        was in force, and `record` journals and applies an event (both under `lock`, the
        gateway's, under which flags and budget slices change too)."""
        self.config = config
        self.instance_id = config.instance_id
        self.plane = plane
        self.attestation = attestation
        self.gate = gate
        self.flags = FlagSet(declared(attestation))  # all off until the plane says
        self._flags_version = -1  # the registry version `flags` reflects
        self._exposure = exposure
        self._apply_halt = apply_halt
        self._lift_halt = lift_halt
        self._record = record
        self._lock = lock
        self._clock = clock
        self._unwatch: Callable[[], None] | None = None
        self._stop = threading.Event()
        self.limits_proposed: Callable[[Proposal], None] | None = None  # fleet_limits.py
        self.budgets = self._budgets(book) if config.fleet.budgets else None

    def _budgets(self, book: Book) -> FleetBudgets:
        """Slices of the configured fleet budgets; each limit is the account's own."""
        specs = []
        for b in self.config.fleet.budgets:
            risk = book.account(b.account).risk
            limit = risk.position_overrides.get(b.symbol, risk.max_position)
            specs.append(BudgetSpec(b.account, b.symbol, limit, b.slice_shares))
        return FleetBudgets(self.plane, self.instance_id, specs)

    # -- joining and leaving ---------------------------------------------------------------

    def join(self, journaled: list[HaltRecord]) -> None:
        """Watch the plane, reconcile halts with the journal's, register and attest, then
        ask for the budget slices the recovered positions and open orders already use.

        Halts: the journal's survive a restart of the embedded plane (which forgets them);
        the plane's that this instance never applied (set while it was down) are applied
        now, through the same path as a live halt, so they cancel what they cover.
        """
        self._unwatch = self.plane.watch(self._on_control)
        known = {h.key for h in journaled}  # in the halt view already: the fold applied them
        in_force = {h.key: h for h in self.plane.halts()}
        for h in journaled:
            if h.key not in in_force:
                self.plane.put_halt(h)
        for key, h in in_force.items():
            if key not in known:
                self._apply_halt(h)
        self._attest(self._register())

    def _register(self) -> int:
        """Register, waiting out (at most one TTL and a second) a lease that still holds
        this id: the previous life of this instance, killed before it could leave. A
        second live process with the same id is refused for good when the wait ends."""
        give_up = time.monotonic() + self._ttl_ns / 1e9 + 1.0
        while True:
            try:
                return self.plane.register(self.attestation, self._ttl_ns)
            except InstanceIdInUse:
                if time.monotonic() >= give_up or self._stop.wait(0.1):
                    raise

    def _attest(self, deadline: int) -> None:
        """Registered until `deadline`: take the release, members and flags as they are now
        (the gate opens only if they admit this instance), then take back the budget
        slices the exposure already uses."""
        registry = self.plane.flag_registry()  # then members: their verdicts are as new
        version = len(registry.history)
        self.gate.joined(deadline, self.plane.release(), self.plane.members(), version)
        with self._lock:
            self._set_flags(registry.enabled_ids(), version)
        if self.budgets is not None:
            with self._lock:
                for spec in self.budgets.specs.values():
                    need = self._exposure(spec.account, spec.symbol, 0)
                    if need > 0:
                        self.budgets.admit(spec, need)

    def use_config(self, config_digest: str) -> Attestation:
        """Attest `config_digest` from here on (the next registration says it)."""
        self.attestation = replace(self.attestation, config_digest=config_digest)
        self.gate.attestation = self.attestation  # compared with the release at `joined`
        return self.attestation

    def reattest(self, config_digest: str) -> None:
        """Register anew on `config_digest` (limits changed in place): the fleet sees the
        new attestation, and the gate compares the release with it."""
        attestation = self.use_config(config_digest)
        deadline = self.plane.register(attestation, self._ttl_ns)
        self.gate.reattested(attestation, deadline)

    @property
    def _ttl_ns(self) -> int:
        return self.config.lease_ttl_ms * 1_000_000

    def leave(self) -> None:
        self._stop.set()
        if self._unwatch is not None:
            self._unwatch()
            self._unwatch = None
        self.plane.leave(self.instance_id)

    # -- lease -----------------------------------------------------------------------------

    def start_heartbeat(self, interval_s: float | None = None) -> threading.Thread:
        """Renew the lease from a daemon thread (every TTL/4 by default) until `leave`.

        A renewal that fails is retried on the next beat; meanwhile the gate closes by
        itself once the deadline passes, so a partitioned instance stops within its TTL.
        """
        interval = interval_s or self.config.lease_ttl_ms / 4_000
        stop = self._stop

        def beat() -> None:
            while not stop.wait(interval):
                self.heartbeat()

        thread = threading.Thread(target=beat, name=f"{self.instance_id}-heartbeat", daemon=True)
        thread.start()
        return thread

    def heartbeat(self) -> bool:
        """Renew the lease and give back budget not in use. On failure the gate closes by
        itself when the deadline passes.

        Once the lease is gone (it expired: a pause, a partition, the plane lost its
        quorum), renewing cannot bring it back: the instance joins again, as a restart
        would, under a new lease. It is attested afresh against the release, epoch, members
        and flag registry of that moment, so it routes again only if they admit it; the
        plane's renewal of the new lease first proves this process's view has caught up
        with every change made while it was away (halts included)."""
        try:
            deadline = self.plane.renew(self.instance_id)
        except ControlPlaneError:
            if self.gate.lost or self._clock() >= self.gate.lease_deadline:
                return self._rejoin()
            return False
        self.gate.renewed(deadline)
        if self.budgets is not None:
            with self._lock:
                self.budgets.trim(lambda spec: self._exposure(spec.account, spec.symbol, 0))
        return True

    def _rejoin(self) -> bool:
        if self._stop.is_set():
            return False
        try:
            self.plane.register(self.attestation, self._ttl_ns)  # refused while another holds it
            deadline = self.plane.renew(self.instance_id)  # the view is current: attest
            self._attest(deadline)
        except ControlPlaneError:
            return False
        return True

    # -- kill switch -----------------------------------------------------------------------

    def halt(self, scope: HaltScope, target: str, reason: str, who: str) -> HaltReport:
        """Write a halt and wait until every live member confirmed it (or the bound).

        The kill switch never depends on the plane: if the plane cannot take the halt (etcd
        lost its quorum, the network is cut), this instance applies it here anyway, and
        the report says it holds on this instance only."""
        record = self.halt_record(scope, target, reason, who)
        start = time.perf_counter_ns()
        try:
            return halt_fleet(self.plane, record, self.config.fleet.halt_confirm_ms)
        except ControlPlaneError as exc:
            self._apply_halt(record)
            me = (self.instance_id,)
            elapsed_ms = (time.perf_counter_ns() - start) / 1e6
            return HaltReport(record, me, me, (), (), elapsed_ms, 0, f"this instance only: {exc}")

    def resume(self, scope: HaltScope, target: str, who: str) -> bool:
        """Lift a halt in the plane; a halt this instance holds that the plane never had
        (set while the plane was unreachable) is lifted here. ControlPlaneError when the
        plane cannot be asked: the halt then stays (resuming is never the fail-safe)."""
        target = "" if scope is HaltScope.GLOBAL else target
        if self.plane.remove_halt(scope, target, who):
            return True
        with self._lock:
            return self._lift_halt(scope, target, who)

    def halt_record(self, scope: HaltScope, target: str, reason: str, who: str) -> HaltRecord:
        target = "" if scope is HaltScope.GLOBAL else target
        return HaltRecord(scope, target, reason, who, self._clock())

    def confirm(self, halt: HaltRecord, pending_cancel: int) -> None:
        """Tell the fleet `halt` is applied here, with the cancels the venue still owes."""
        try:
            self.plane.confirm_halt(self.instance_id, halt, pending_cancel)
        except ControlPlaneError as exc:  # applied here all the same; the report will say
            _log.warning("%s: could not confirm halt %s: %s", self.instance_id, halt.key, exc)

    def snapshot(self) -> FleetSnapshot:
        now = self._clock()
        return FleetSnapshot(now, self.plane.release(), self.plane.members(),
                             self.plane.halts(), self.gate.state(now))  # fmt: skip

    # -- the watch -------------------------------------------------------------------------

    def _set_flags(self, enabled: frozenset[int], version: int) -> None:
        """Adopt the ids on as of registry `version`, unless a newer view was adopted."""
        if version > self._flags_version:
            self._flags_version = version
            self.flags = FlagSet(declared(self.attestation), enabled)

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
        elif isinstance(event, HaltRemoved):
            with self._lock:
                self._lift_halt(event.scope, event.target, event.who)
        elif isinstance(event, FlagChanged):
            self.gate.flags_checked(dict(event.refused), event.version)  # refuse, then switch
            with self._lock:
                self._set_flags(event.enabled, event.version)
                self._record(event.change)
            _log.info("flag change: %s", event.change,
                         extra={"event": "flag.changed"})  # fmt: skip
        else:
            with self._lock:
                record = self._deploy_record(event, self._clock())
                self._record(record)
            kind = type(record).__name__.removeprefix("Deploy").lower()
            _log.info("deploy %s: %s", kind, record,
                         extra={"event": f"deploy.{kind}",
                                "build_digest": record.build_digest})  # fmt: skip
            apply_limits = self.limits_proposed  # outside the lock: it takes it
            if isinstance(event, ProposalPut) and event.proposal.limits and apply_limits:
                apply_limits(event.proposal)

    def _deploy_record(
        self, event: ReleaseChanged | ProposalPut | ProposalAborted, now: int
    ) -> DeployCommitted | DeployProposed | DeployAborted:
        """The journal record of a release or proposal event (under the lock)."""
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
