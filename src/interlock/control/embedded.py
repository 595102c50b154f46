"""The in-process control plane: exact, synchronous, for one process holding one or many
gateway instances (the default, and the replay's fleet of eight).

Watchers are called synchronously, in order, after the change is made and outside the
plane's lock, so a halt is applied (and confirmed) by every in-process instance before
`put_halt` returns, and a watcher may call back into the plane. A watcher that raises is
logged and skipped: it must not keep the event from the watchers after it.

Leases expire lazily, as etcd's do from a client's point of view: every call first sweeps
the members whose deadline has passed and announces each with `MemberLost` (their budget
slices stay held: see `_drop_locked`). Instances renew every TTL/4, so a dead member is
announced within about a quarter TTL of its deadline; no background thread is needed and a
manual clock drives it all.

Flags: the registry and the verdict on each member's manifest are `FleetFlags`, changed
under the plane's lock like everything else, so an enable's (or a retire's) preflight sees
exactly the members whose lease is fresh at that instant, and no member joins between the
preflight and the change.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import replace

from interlock.control import fleetflags
from interlock.control.budgets import SliceLedger
from interlock.control.fleetflags import FlagChange, FleetFlags
from interlock.control.plane import (
    Attestation,
    CommitResult,
    ControlEvent,
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
    Watcher,
    commit_verdict,
)
from interlock.control.watchers import Watchers
from interlock.domain.clock import Clock
from interlock.domain.enums import HaltScope
from interlock.errors import ControlPlaneError, FlagError
from interlock.flags.registry import Flag, FlagRegistry


class EmbeddedControlPlane:
    def __init__(
        self,
        release: Release | None = None,
        clock: Clock = time.time_ns,
        flags: FlagRegistry | None = None,
    ) -> None:
        """`flags`: the flag registry to start from (copied), else an empty one."""
        self._clock = clock
        self._lock = threading.Lock()
        self._release = release or Release("", "", 1)
        self._proposal: Proposal | None = None
        self._members: dict[str, Member] = {}
        self._ttl: dict[str, int] = {}
        self._halts: dict[tuple[HaltScope, str], HaltRecord] = {}
        self._acks: dict[tuple[HaltScope, str], set[str]] = {}
        self._ledger = SliceLedger()
        self._flags = FleetFlags(flags, clock)
        self._watchers = Watchers()

    # -- release and deploys ------------------------------------------------------------

    def release(self) -> Release:
        return self._release

    def set_release(self, release: Release, who: str = "") -> None:
        with self._lock:
            if release.epoch <= self._release.epoch:
                raise ControlPlaneError(
                    f"release epoch {release.epoch} is not above current {self._release.epoch}"
                )
            self._release = release
        self._emit([ReleaseChanged(release, who)])

    def put_proposal(self, proposal: Proposal) -> bool:
        with self._lock:
            if self._proposal is not None:
                return False
            self._proposal = proposal
        self._emit([ProposalPut(proposal)])
        return True

    def proposal(self) -> Proposal | None:
        return self._proposal

    def abort_proposal(self, who: str, reason: str) -> Proposal | None:
        with self._lock:
            proposal, self._proposal = self._proposal, None
        if proposal is not None:
            self._emit([ProposalAborted(proposal, who, reason)])
        return proposal

    def commit_proposal(self, who: str) -> CommitResult:
        with self._lock:
            events: list[ControlEvent] = [MemberLost(i) for i in self._sweep_locked()]
            p, release = self._proposal, self._release
            live = tuple(self._members.values())
            committed = None if p is None else commit_verdict(p, release, live)
            if committed is not None:
                self._release, self._proposal = committed, None
                events.append(ReleaseChanged(committed, who))
        self._emit(events)
        return CommitResult(committed, p, release, live)

    # -- members and leases -------------------------------------------------------------

    def register(self, attestation: Attestation, ttl_ns: int) -> int:
        if ttl_ns <= 0:
            raise ControlPlaneError(f"lease TTL must be positive, got {ttl_ns} ns")
        with self._lock:
            events: list[ControlEvent] = [MemberLost(i) for i in self._sweep_locked()]
            deadline = self._clock() + ttl_ns
            verdict = self._flags.judge(attestation)
            member = Member(attestation, deadline, verdict)
            self._members[attestation.instance_id] = member
            self._ttl[attestation.instance_id] = ttl_ns
            events.append(MemberJoined(member))
        self._emit(events)
        return deadline

    def renew(self, instance_id: str) -> int:
        with self._lock:
            lost = self._sweep_locked()
            member = self._members.get(instance_id)
            deadline = 0
            if member is not None:
                deadline = self._clock() + self._ttl[instance_id]
                self._members[instance_id] = replace(member, lease_expires_ns=deadline)
        self._emit([MemberLost(i) for i in lost])
        if member is None:
            raise ControlPlaneError(f"lease of instance {instance_id} has expired or never existed")
        return deadline

    def leave(self, instance_id: str) -> None:
        with self._lock:
            lost = self._sweep_locked()
            if self._drop_locked(instance_id):
                lost.append(instance_id)
        self._emit([MemberLost(i) for i in lost])

    def members(self) -> list[Member]:
        with self._lock:
            lost = self._sweep_locked()
            live = list(self._members.values())
        self._emit([MemberLost(i) for i in lost])
        return live

    def _sweep_locked(self) -> list[str]:
        now = self._clock()
        expired = [i for i, m in self._members.items() if m.lease_expires_ns <= now]
        for instance_id in expired:
            self._drop_locked(instance_id)
        return expired

    def _drop_locked(self, instance_id: str) -> bool:
        # Budget slices stay with the instance: its positions and any orders still working
        # at the venue outlive its lease, so the fleet must go on counting them. It takes
        # them back when it rejoins; an operator frees them with `release_slices`.
        self._ttl.pop(instance_id, None)
        return self._members.pop(instance_id, None) is not None

    def release_slices(self, instance_id: str) -> None:
        """Operator action, once a departed instance's book is known flat: free its slices."""
        with self._lock:
            if instance_id in self._members:
                raise ControlPlaneError(
                    f"instance {instance_id} is live: it gives slices back itself"
                )
            self._ledger.drop(instance_id)

    # -- halts ----------------------------------------------------------------------------

    def put_halt(self, halt: HaltRecord) -> None:
        with self._lock:
            self._halts[halt.key] = halt
            self._acks[halt.key] = set()
        self._emit([HaltPut(halt)])

    def remove_halt(self, scope: HaltScope, target: str, who: str) -> bool:
        with self._lock:
            existed = self._halts.pop((scope, target), None) is not None
            self._acks.pop((scope, target), None)
        if existed:
            self._emit([HaltRemoved(scope, target, who, self._clock())])
        return existed

    def halts(self) -> list[HaltRecord]:
        with self._lock:
            return list(self._halts.values())

    def confirm_halt(self, instance_id: str, halt: HaltRecord, pending_cancel: int = 0) -> None:
        with self._lock:
            if self._halts.get(halt.key) != halt:
                return  # lifted or replaced since: this confirmation is for nothing in force
            self._acks[halt.key].add(instance_id)
        self._emit([HaltConfirmed(instance_id, halt, self._clock(), pending_cancel)])

    def halt_confirmations(self, halt: HaltRecord) -> frozenset[str]:
        with self._lock:
            if self._halts.get(halt.key) != halt:
                return frozenset()
            return frozenset(self._acks[halt.key])

    # -- budgets --------------------------------------------------------------------------

    def lease_slice(self, budget: str, instance_id: str, limit: int, want: int) -> int:
        refused: ControlPlaneError | None = None
        grant = 0
        with self._lock:
            lost = self._sweep_locked()
            if instance_id not in self._members:
                refused = ControlPlaneError(f"instance {instance_id} holds no lease: no slice")
            else:
                try:
                    grant = self._ledger.lease(budget, instance_id, limit, want)
                except ControlPlaneError as exc:
                    refused = exc
        self._emit([MemberLost(i) for i in lost])
        if refused is not None:
            raise refused
        return grant

    def slices(self, budget: str) -> dict[str, int]:
        with self._lock:
            return self._ledger.slices(budget)

    # -- flags ----------------------------------------------------------------------------

    def flag_registry(self) -> FlagRegistry:
        with self._lock:
            return self._flags.snapshot()

    def register_flag(self, name: str, flag_id: int, meaning: str, owner: str) -> Flag:
        return self._change_flags(fleetflags.register(name, flag_id, meaning, owner))

    def retire_flag(self, name: str, who: str) -> Flag:
        return self._change_flags(fleetflags.retire(name, who))

    def enable_flag(self, name: str, who: str) -> Flag:
        return self._change_flags(fleetflags.enable(name, who))

    def disable_flag(self, name: str, who: str) -> Flag:
        return self._change_flags(fleetflags.disable(name, who))

    def _change_flags(self, change: FlagChange) -> Flag:
        """Sweep expired leases, then make the change against the members still live."""
        refused: FlagError | None = None
        with self._lock:
            events: list[ControlEvent] = [MemberLost(i) for i in self._sweep_locked()]
            try:
                flag, changed = self._flags.change(change, self._members)
            except FlagError as exc:
                refused = exc
            else:
                if changed is not None:
                    events.append(changed)
        self._emit(events)
        if refused is not None:
            raise refused
        return flag

    # -- watch ----------------------------------------------------------------------------

    def watch(self, watcher: Watcher) -> Callable[[], None]:
        return self._watchers.add(watcher)

    def _emit(self, events: list[ControlEvent]) -> None:
        self._watchers.emit(events)
