"""The control plane on etcd: a fleet of `interlock serve` processes on one machine or many.

Every record is an etcd key (`etcd_records` says which); every change that must be atomic is
one transaction that compares the revisions it read (a deploy commit compares the release,
the proposal, each expected member's key and the flag registry's head; a budget slice its
budget's key; a flag enable the flag head and the members' join counter), so two operators
racing cannot both win, and a member joining mid-enable makes the enable judge again. The
loser re-reads and judges again, a bounded number of times.

Members are bound to etcd leases: etcd deletes a member's keys when its lease runs out, and
every other process hears it as `MemberLost`. Halts, releases, proposals, flag changes and
confirmations reach each process through one watch on the fleet's prefix, applied in
revision order to a local view, and announced to the watchers (the gateway's fleet
membership) on the watch thread; the order path never waits on etcd, it reads the gate's
cache those watchers keep.

Freshness: a renewal refreshes the lease, writes a beat under it and waits until this
process's own watch delivers that beat. Only then does it return a new deadline, so a
process whose watch is stuck (a node cut off from the quorum still holding the stream open,
a dead stream) cannot renew: its gate's deadline passes and it fails closed with
CONTROL_PLANE_LOST by itself, within one TTL, while the watch is restarted elsewhere.

Reads (`release()`, `members()`, `halts()`, ...) go to etcd (linearizable), not to the view:
they are operator and join-time calls, never per order.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from interlock.control import fleetflags
from interlock.control.budgets import SliceLedger
from interlock.control.etcd_client import (
    EtcdAuth,
    EtcdSession,
    KeyValue,
    WatchEvent,
    delete_op,
    exists,
    get_op,
    kvs_of,
    lease_is,
    mod_is,
    put_op,
    value_is,
)
from interlock.control.etcd_records import (
    Aborted,
    Ack,
    Beat,
    Keys,
    Lift,
    StoredBudget,
    StoredMember,
    StoredRelease,
    decode,
    encode,
    halt_of,
)
from interlock.control.fleetflags import FlagChange, FleetFlags, flag_refusal
from interlock.control.plane import (
    Attestation,
    CommitResult,
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
    Watcher,
    commit_verdict,
)
from interlock.control.watchers import Watchers
from interlock.domain.enums import HaltScope
from interlock.domain.flag_events import FlagEvent
from interlock.errors import ControlPlaneError, InstanceIdInUse
from interlock.flags.registry import Flag, FlagRegistry

_log = logging.getLogger(__name__)
_RACES = 16  # a compare-and-swap that keeps losing is retried this often, then refused
_NS = 1_000_000_000
_WATCH_RETRY_S = 0.05  # first pause before watching again; doubled while nothing answers
_WATCH_RETRY_MAX_S = 0.5


class EtcdControlPlane:
    """Every port of `ControlPlane`, on an etcd cluster. Close it when done."""

    def __init__(
        self,
        endpoints: str,
        *,
        prefix: str = "interlock/fleet",
        auth: EtcdAuth | None = None,
        clock: Callable[[], int] = time.time_ns,
        release: Release | None = None,
        flags: FlagRegistry | None = None,
        timeout_s: float = 1.0,
    ) -> None:
        """`endpoints`: `etcd://h1:p1,h2:p2,...`. `release` and `flags` seed a fleet whose
        prefix holds none yet (a fleet that exists keeps its own)."""
        self._session = EtcdSession(endpoints, auth, timeout_s)
        self.endpoints = self._session.endpoints
        self._keys = Keys.for_fleet(prefix)
        self._clock = clock
        self._lock = threading.Lock()  # the leases of the members joined from here
        self._watchers = Watchers()
        self._leases: dict[str, tuple[int, int]] = {}  # members joined from here: lease, ttl
        self._seen = threading.Condition()
        self._seen_revision = 0
        self._closed = threading.Event()
        self._stream: Any = None
        self._seed(release or Release("", "", 1), flags)
        self._view = _View(self._keys)
        self._seen_revision = self._view.load(self._session)
        self._thread = threading.Thread(target=self._watch_loop, name="etcd-watch", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop watching (the members joined from here keep their leases until they expire
        or `leave`)."""
        self._closed.set()
        stream = self._stream
        if stream is not None:
            stream.close()
        self._thread.join(timeout=2.0)

    def _seed(self, release: Release, flags: FlagRegistry | None) -> None:
        k = self._keys
        self._session.txn(
            [mod_is(k.release, 0)], [put_op(k.release, encode(StoredRelease(release)))]
        )
        history = flags.history if flags is not None else ()
        if history:
            puts = [put_op(k.flag(i), encode(e)) for i, e in enumerate(history)]
            self._session.txn(
                [mod_is(k.flaghead, 0)], [*puts, put_op(k.flaghead, str(len(history)))]
            )

    # -- release and deploys ------------------------------------------------------------

    def release(self) -> Release:
        return self._read_release()[0]

    def _read_release(self) -> tuple[Release, int]:
        _, kvs = self._session.range(self._keys.release)
        if not kvs:
            raise ControlPlaneError(f"etcd holds no release under {self._keys.root}")
        stored: StoredRelease = decode(kvs[0].key, kvs[0].value, StoredRelease)
        return stored.release, kvs[0].mod_revision

    def set_release(self, release: Release, who: str = "") -> None:
        k = self._keys
        for _ in range(_RACES):
            current, revision = self._read_release()
            if release.epoch <= current.epoch:
                raise ControlPlaneError(
                    f"release epoch {release.epoch} is not above current {current.epoch}"
                )
            ok, _, _ = self._session.txn(
                [mod_is(k.release, revision)],
                [put_op(k.release, encode(StoredRelease(release, who)))],
            )
            if ok:
                return
        raise ControlPlaneError("set_release kept losing races with other writers")

    def put_proposal(self, proposal: Proposal) -> bool:
        k = self._keys
        ok, _, _ = self._session.txn(
            [mod_is(k.proposal, 0)], [put_op(k.proposal, encode(proposal))]
        )
        return ok

    def proposal(self) -> Proposal | None:
        return self._read_proposal()[0]

    def _read_proposal(self) -> tuple[Proposal | None, int]:
        _, kvs = self._session.range(self._keys.proposal)
        if not kvs:
            return None, 0
        proposal: Proposal = decode(kvs[0].key, kvs[0].value, Proposal)
        return proposal, kvs[0].mod_revision

    def abort_proposal(self, who: str, reason: str) -> Proposal | None:
        k = self._keys
        for _ in range(_RACES):
            proposal, revision = self._read_proposal()
            if proposal is None:
                return None
            ok, _, _ = self._session.txn(
                [mod_is(k.proposal, revision)],
                [delete_op(k.proposal), put_op(k.aborted, encode(Aborted(proposal, who, reason)))],
            )
            if ok:
                return proposal
        raise ControlPlaneError("abort kept losing races with other writers")

    def commit_proposal(self, who: str) -> CommitResult:
        k = self._keys
        for _ in range(_RACES):
            snap = self._snapshot(k.release, k.proposal, k.members, k.flags, k.flaghead)
            release_kv = snap.one(k.release)
            if release_kv is None:
                raise ControlPlaneError(f"etcd holds no release under {k.root}")
            release = decode(release_kv.key, release_kv.value, StoredRelease).release
            proposal_kv = snap.one(k.proposal)
            p = (
                None
                if proposal_kv is None
                else decode(proposal_kv.key, proposal_kv.value, Proposal)
            )
            registry = snap.registry()
            live = tuple(snap.members(registry))
            committed = None if p is None else commit_verdict(p, release, live)
            if committed is None or p is None or proposal_kv is None:
                return CommitResult(None, p, release, live)
            compare = [
                mod_is(k.release, release_kv.mod_revision),
                mod_is(k.proposal, proposal_kv.mod_revision),
                mod_is(k.flaghead, snap.revision_of(k.flaghead)),
            ]
            compare += [mod_is(k.member(i), snap.revision_of(k.member(i))) for i in p.members]
            ok, _, _ = self._session.txn(
                compare,
                [put_op(k.release, encode(StoredRelease(committed, who))), delete_op(k.proposal)],
            )
            if ok:
                return CommitResult(committed, p, release, live)
        raise ControlPlaneError("commit kept losing races with other writers")

    # -- members and leases -------------------------------------------------------------

    def register(self, attestation: Attestation, ttl_ns: int) -> int:
        """Join under a new lease. Refused (InstanceIdInUse) while another live member holds
        the id: only this plane's own previous lease of it may be replaced."""
        if ttl_ns <= 0:
            raise ControlPlaneError(f"lease TTL must be positive, got {ttl_ns} ns")
        k, instance_id = self._keys, attestation.instance_id
        key = k.member(instance_id)
        with self._lock:
            old = self._leases.get(instance_id)
        lease = self._session.grant(max(1, math.ceil(ttl_ns / _NS)))
        now = self._clock()
        deadline = now + ttl_ns
        puts = [
            put_op(key, encode(StoredMember(attestation, ttl_ns, deadline)), lease),
            put_op(k.beat(instance_id), encode(Beat(now, ttl_ns)), lease),
            put_op(k.members_rev, instance_id),
        ]
        free = [mod_is(key, 0)] if old is None else [lease_is(key, old[0])]
        ok, _, _ = self._session.txn(free, puts)
        if not ok and old is not None:
            ok, _, _ = self._session.txn([mod_is(key, 0)], puts)  # ours expired meanwhile
        if not ok:
            self._session.revoke(lease)
            holder = self._holder(key)
            raise InstanceIdInUse(f"instance id {instance_id} is held by another live member "
                                  f"({holder}): two processes may not share an id")  # fmt: skip
        with self._lock:
            self._leases[instance_id] = (lease, ttl_ns)
        if old is not None:
            self._session.revoke(old[0])  # its keys were rewritten under the new lease
        return deadline

    def _holder(self, key: str) -> str:
        _, kvs = self._session.range(key)
        if not kvs:
            return "gone since"
        a = decode(kvs[0].key, kvs[0].value, StoredMember).attestation
        return f"host {a.host}, pid {a.pid}"

    def renew(self, instance_id: str) -> int:
        with self._lock:
            held = self._leases.get(instance_id)
        if held is None:
            raise ControlPlaneError(f"lease of instance {instance_id} has expired or never existed")
        lease, ttl_ns = held
        sent = self._clock()
        if self._session.keepalive(lease) <= 0:
            with self._lock:
                if self._leases.get(instance_id) == held:
                    del self._leases[instance_id]
            raise ControlPlaneError(f"lease of instance {instance_id} has expired")
        k = self._keys
        ok, revision, _ = self._session.txn(
            [lease_is(k.member(instance_id), lease)],
            [put_op(k.beat(instance_id), encode(Beat(sent, ttl_ns)), lease)],
        )
        if not ok:
            raise ControlPlaneError(f"instance {instance_id} is no longer a member")
        if not self._wait_seen(revision, ttl_ns / 4 / _NS):
            self._restart_watch()
            raise ControlPlaneError(
                f"instance {instance_id}: this process's view of the control plane is behind "
                f"etcd (revision {self._seen_revision} < {revision}); not renewing"
            )
        return sent + ttl_ns

    def leave(self, instance_id: str) -> None:
        """Give up this plane's lease of `instance_id` (another member's is never touched)."""
        with self._lock:
            held = self._leases.pop(instance_id, None)
        if held is None:
            return
        k = self._keys
        mine = [lease_is(k.member(instance_id), held[0])]
        self._session.txn(mine, [delete_op(k.member(instance_id)), delete_op(k.beat(instance_id))])
        self._session.revoke(held[0])

    def members(self) -> list[Member]:
        k = self._keys
        snap = self._snapshot(k.members, k.beats, k.flags)
        return snap.members(snap.registry())

    # -- halts ----------------------------------------------------------------------------

    def put_halt(self, halt: HaltRecord) -> None:
        k = self._keys
        self._session.txn(
            [],
            [
                put_op(k.halt(halt.scope, halt.target), encode(halt)),
                delete_op(k.acks_of(halt.scope, halt.target), prefix=True),
            ],
        )

    def remove_halt(self, scope: HaltScope, target: str, who: str) -> bool:
        k = self._keys
        ok, _, _ = self._session.txn(
            [exists(k.halt(scope, target))],
            [
                delete_op(k.halt(scope, target)),
                delete_op(k.acks_of(scope, target), prefix=True),
                put_op(k.lift(scope, target), encode(Lift(who, self._clock()))),
            ],
        )
        return ok

    def halts(self) -> list[HaltRecord]:
        _, kvs = self._session.range(self._keys.halts, prefix=True)
        return [halt_of(kv.key, kv.value) for kv in kvs]

    def confirm_halt(self, instance_id: str, halt: HaltRecord, pending_cancel: int = 0) -> None:
        k = self._keys
        ack = Ack(self._clock(), pending_cancel)
        self._session.txn(
            [value_is(k.halt(halt.scope, halt.target), encode(halt))],
            [put_op(k.ack(halt.scope, halt.target, instance_id), encode(ack))],
        )

    def halt_confirmations(self, halt: HaltRecord) -> frozenset[str]:
        k = self._keys
        folder = k.acks_of(halt.scope, halt.target)
        ok, _, responses = self._session.txn(
            [value_is(k.halt(halt.scope, halt.target), encode(halt))],
            [get_op(folder, prefix=True)],
        )
        if not ok:
            return frozenset()
        return frozenset(k.id_in(kv.key, folder) for kv in kvs_of(responses[0]))

    # -- budgets --------------------------------------------------------------------------

    def lease_slice(self, budget: str, instance_id: str, limit: int, want: int) -> int:
        k = self._keys
        key, member = k.budget(budget), k.member(instance_id)
        for _ in range(_RACES):
            _, _, responses = self._session.txn([], [get_op(key), get_op(member)])
            if not kvs_of(responses[1]):
                raise ControlPlaneError(f"instance {instance_id} holds no lease: no slice")
            stored = kvs_of(responses[0])
            ledger = _ledger(budget, stored)
            grant = ledger.lease(budget, instance_id, limit, want)
            revision = stored[0].mod_revision if stored else 0
            ok, _, _ = self._session.txn(
                [mod_is(key, revision), exists(member)], [_budget_op(key, budget, ledger)]
            )
            if ok:
                return grant
        raise ControlPlaneError(f"budget {budget}: slice requests kept losing races")

    def release_slices(self, instance_id: str) -> None:
        k = self._keys
        member = k.member(instance_id)
        for _ in range(_RACES):
            _, _, responses = self._session.txn(
                [], [get_op(k.budgets, prefix=True), get_op(member)]
            )
            if kvs_of(responses[1]):
                raise ControlPlaneError(
                    f"instance {instance_id} is live: it gives slices back itself"
                )
            compare, ops = [mod_is(member, 0)], []
            for kv in kvs_of(responses[0]):
                name = k.id_in(kv.key, k.budgets)
                ledger = _ledger(name, [kv])
                if instance_id in ledger.slices(name):
                    ledger.drop(instance_id)
                    compare.append(mod_is(kv.key, kv.mod_revision))
                    ops.append(_budget_op(kv.key, name, ledger))
            if not ops:
                return
            ok, _, _ = self._session.txn(compare, ops)
            if ok:
                return
        raise ControlPlaneError(f"releasing {instance_id}'s slices kept losing races")

    def slices(self, budget: str) -> dict[str, int]:
        _, kvs = self._session.range(self._keys.budget(budget))
        return _ledger(budget, kvs).slices(budget)

    # -- flags ----------------------------------------------------------------------------

    def flag_registry(self) -> FlagRegistry:
        snap = self._snapshot(self._keys.flags)
        return snap.registry()

    def register_flag(self, name: str, flag_id: int, meaning: str, owner: str) -> Flag:
        return self._change_flags(fleetflags.register(name, flag_id, meaning, owner))

    def retire_flag(self, name: str, who: str) -> Flag:
        return self._change_flags(fleetflags.retire(name, who))

    def enable_flag(self, name: str, who: str) -> Flag:
        return self._change_flags(fleetflags.enable(name, who))

    def disable_flag(self, name: str, who: str) -> Flag:
        return self._change_flags(fleetflags.disable(name, who))

    def _change_flags(self, change: FlagChange) -> Flag:
        """Judge the change against the registry and the members live now; write its event
        only if neither changed since (else judge again)."""
        k = self._keys
        for _ in range(_RACES):
            snap = self._snapshot(k.flags, k.flaghead, k.members, k.members_rev)
            registry = snap.registry()
            fleet = FleetFlags(registry, self._clock)
            live = {m.instance_id: m for m in snap.members(registry)}
            flag, changed = fleet.change(change, live)  # FlagError: refused, nothing written
            if changed is None:
                return flag
            index = len(registry.history)
            ok, _, _ = self._session.txn(
                [
                    mod_is(k.flaghead, snap.revision_of(k.flaghead)),
                    mod_is(k.members_rev, snap.revision_of(k.members_rev)),
                ],
                [put_op(k.flag(index), encode(changed.change)), put_op(k.flaghead, str(index + 1))],
            )
            if ok:
                return flag
        raise ControlPlaneError("flag change kept losing races with other writers")

    # -- watch ----------------------------------------------------------------------------

    def watch(self, watcher: Watcher) -> Callable[[], None]:
        return self._watchers.add(watcher)

    def _watch_loop(self) -> None:
        """Apply every change under the prefix to the view, in order, for as long as open;
        re-watch from the last revision seen when the stream ends (another endpoint if
        this one died), and reload the view if etcd compacted past it."""
        pause = _WATCH_RETRY_S
        while not self._closed.is_set():
            heard = False
            try:
                stream = self._session.watch(self._keys.root, self._seen_revision + 1)
                self._stream = stream
                if self._closed.is_set():
                    stream.close()
                    return
                try:
                    for revision, events in stream.batches():
                        self._deliver(self._view.apply(events))
                        self._saw(max([revision, *(e.revision for e in events)]))
                        heard = True
                finally:
                    stream.release()
            except ControlPlaneError as exc:
                if self._closed.is_set():
                    return
                _log.warning("etcd watch: %s; watching again", exc)
                if "compacted" in str(exc):
                    self._reload()
            except Exception:  # the loop must outlive any one bad batch
                _log.exception("etcd watch failed; watching again")
            # Back off while nothing answers (a cluster down, a password changed), up to
            # half a second: the renewals fail meanwhile, so the gate is shut anyway.
            pause = _WATCH_RETRY_S if heard else min(pause * 2, _WATCH_RETRY_MAX_S)
            self._closed.wait(pause)

    def _reload(self) -> None:
        try:
            self._deliver(self._view.reload(self._session))
            self._saw(self._view.revision)
        except ControlPlaneError as exc:  # etcd unreachable too: the next watch tries again
            _log.warning("etcd watch: reloading the view failed: %s", exc)

    def _restart_watch(self) -> None:
        stream = self._stream
        if stream is not None:
            stream.close()

    def _saw(self, revision: int) -> None:
        with self._seen:
            if revision > self._seen_revision:
                self._seen_revision = revision
                self._seen.notify_all()

    def _wait_seen(self, revision: int, timeout_s: float) -> bool:
        with self._seen:
            return self._seen.wait_for(lambda: self._seen_revision >= revision, timeout_s)

    def _deliver(self, events: list[ControlEvent]) -> None:
        self._watchers.emit(events)

    # -- reads ------------------------------------------------------------------------------

    def _snapshot(self, *keys: str) -> _Snapshot:
        """Several keys and folders read in one transaction: one revision for all."""
        ops = [get_op(key, prefix=key.endswith("/")) for key in keys]
        _, _, responses = self._session.txn([], ops)
        return _Snapshot(self._keys, dict(zip(keys, (kvs_of(r) for r in responses), strict=True)))


def _ledger(budget: str, stored: list[KeyValue]) -> SliceLedger:
    ledger = SliceLedger()
    if stored:
        b: StoredBudget = decode(stored[0].key, stored[0].value, StoredBudget)
        ledger.load(budget, b.limit, b.slices)
    return ledger


def _budget_op(key: str, budget: str, ledger: SliceLedger) -> dict[str, Any]:
    limit = ledger.limit(budget)
    if limit is None:
        return delete_op(key)
    return put_op(key, encode(StoredBudget(limit, ledger.slices(budget))))


class _Snapshot:
    """Keys read at one revision, with the records made of them."""

    def __init__(self, keys: Keys, found: dict[str, list[KeyValue]]) -> None:
        self._keys = keys
        self._found = found

    def one(self, key: str) -> KeyValue | None:
        kvs = self._found.get(key, [])
        return kvs[0] if kvs else None

    def revision_of(self, key: str) -> int:
        """A key's mod revision (0 if absent); member keys come from the members folder."""
        kv = self.one(key)
        if kv is not None:
            return kv.mod_revision
        for found in self._found.get(self._keys.members, []):
            if found.key == key:
                return found.mod_revision
        return 0

    def registry(self) -> FlagRegistry:
        return FlagRegistry.from_history(
            decode(kv.key, kv.value, FlagEvent) for kv in self._found.get(self._keys.flags, [])
        )

    def members(self, registry: FlagRegistry) -> list[Member]:
        k = self._keys
        beats = {k.id_in(kv.key, k.beats): kv for kv in self._found.get(k.beats, [])}
        out = []
        for kv in self._found.get(k.members, []):
            stored: StoredMember = decode(kv.key, kv.value, StoredMember)
            deadline = stored.deadline_ns
            beat = beats.get(stored.attestation.instance_id)
            if beat is not None:
                b: Beat = decode(beat.key, beat.value, Beat)
                deadline = max(deadline, b.ts + b.ttl_ns)
            verdict = flag_refusal(stored.attestation, registry)
            out.append(Member(stored.attestation, deadline, verdict))
        return out


class _View:
    """What this process knows of the fleet, folded from the watch in revision order; it
    turns each etcd change into the control events the watchers hear."""

    def __init__(self, keys: Keys) -> None:
        self._keys = keys
        self.revision = 0
        self.members: dict[str, Attestation] = {}
        self.halts: dict[str, HaltRecord] = {}  # by halt key
        self.history: list[FlagEvent] = []
        self.registry = FlagRegistry()

    def load(self, session: EtcdSession) -> int:
        """Read the whole prefix; returns the revision it was read at."""
        revision, kvs = session.range(self._keys.root, prefix=True)
        self.members, self.halts, self.history = {}, {}, []
        k = self._keys
        for kv in kvs:
            if kv.key.startswith(k.members):
                stored: StoredMember = decode(kv.key, kv.value, StoredMember)
                self.members[stored.attestation.instance_id] = stored.attestation
            elif kv.key.startswith(k.halts):
                self.halts[kv.key] = self._halt(kv.key, kv.value)
            elif kv.key.startswith(k.flags):
                self.history.append(decode(kv.key, kv.value, FlagEvent))
        self.registry = FlagRegistry.from_history(self.history)
        self.revision = revision
        return revision

    def reload(self, session: EtcdSession) -> list[ControlEvent]:
        """After a compaction: read everything again and announce what changed meanwhile."""
        before_members, before_halts, before_flags = self.members, self.halts, len(self.history)
        self.load(session)
        events: list[ControlEvent] = [
            MemberLost(i) for i in before_members if i not in self.members
        ]
        events += [
            MemberJoined(self._member(a))
            for i, a in self.members.items()
            if before_members.get(i) != a
        ]
        for key, halt in before_halts.items():
            if key not in self.halts:
                events.append(
                    HaltRemoved(halt.scope, halt.target, "(while this view was away)", halt.ts)
                )
        events += [HaltPut(h) for key, h in self.halts.items() if before_halts.get(key) != h]
        if len(self.history) > before_flags:
            events.append(self._flags_changed(self.history[-1]))
        _, kvs = session.range(self._keys.release)
        if kvs:
            events.append(ReleaseChanged(decode(kvs[0].key, kvs[0].value, StoredRelease).release))
        return events

    def _halt(self, key: str, text: str) -> HaltRecord:
        try:
            return halt_of(key, text)
        except ControlPlaneError:
            # A halt nobody can read still halts: fail closed on the whole fleet.
            _log.error("etcd key %s holds an unreadable halt; treating it as a global halt", key)
            return HaltRecord(HaltScope.GLOBAL, "", f"unreadable halt record at {key}", "etcd", 0)

    def _member(self, attestation: Attestation, deadline: int = 0) -> Member:
        return Member(attestation, deadline, flag_refusal(attestation, self.registry))

    def _flags_changed(self, change: FlagEvent) -> FlagChanged:
        refused = tuple(
            sorted(
                (i, why) for i, a in self.members.items() if (why := flag_refusal(a, self.registry))
            )
        )
        return FlagChanged(change, self.registry.enabled_ids(), len(self.history), refused)

    def apply(self, events: Iterable[WatchEvent]) -> list[ControlEvent]:
        out: list[ControlEvent] = []
        for e in events:
            try:
                event = self._translate(e)
            except ControlPlaneError:
                _log.exception("etcd watch: skipping a record that does not decode")
                continue
            if e.revision > self.revision:
                self.revision = e.revision
            if event is not None:
                out.append(event)
        return out

    def _translate(self, e: WatchEvent) -> ControlEvent | None:
        k, key = self._keys, e.key
        if key == k.release and not e.deleted:
            stored: StoredRelease = decode(key, e.value, StoredRelease)
            return ReleaseChanged(stored.release, stored.who)
        if key == k.proposal:
            return None if e.deleted else ProposalPut(decode(key, e.value, Proposal))
        if key == k.aborted and not e.deleted:
            a: Aborted = decode(key, e.value, Aborted)
            return ProposalAborted(a.proposal, a.who, a.reason)
        if key.startswith(k.members):
            instance_id = k.id_in(key, k.members)
            if e.deleted:
                return MemberLost(instance_id) if self.members.pop(instance_id, None) else None
            m: StoredMember = decode(key, e.value, StoredMember)
            self.members[instance_id] = m.attestation
            return MemberJoined(self._member(m.attestation, m.deadline_ns))
        if key.startswith(k.halts):
            if e.deleted:
                self.halts.pop(key, None)
                return None
            halt = self.halts[key] = self._halt(key, e.value)
            return HaltPut(halt)
        if key.startswith(k.lifts) and not e.deleted:
            scope, target, _ = k.halt_key_of(key, k.lifts)
            lift: Lift = decode(key, e.value, Lift)
            return HaltRemoved(scope, target, lift.who, lift.ts)
        if key.startswith(k.acks) and not e.deleted:
            scope, target, instance_id = k.halt_key_of(key, k.acks)
            halt_in_force = self.halts.get(k.halt(scope, target))
            if halt_in_force is None:
                return None
            ack: Ack = decode(key, e.value, Ack)
            return HaltConfirmed(instance_id, halt_in_force, ack.ts, ack.pending_cancel)
        if key.startswith(k.flags) and not e.deleted:
            change: FlagEvent = decode(key, e.value, FlagEvent)
            self.history.append(change)
            self.registry = FlagRegistry.from_history(self.history)
            return self._flags_changed(change)
        return None  # beats, budgets, counters: nothing to announce
