"""The in-process control plane: exact, synchronous, for one process holding one or many
gateway instances (the default, and the replay's fleet of eight).

Watchers are called synchronously, in order, after the change is made and outside the
plane's lock, so a halt is applied by every in-process instance before `put_halt` returns.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from interlock.control.plane import (
    Attestation,
    ControlEvent,
    HaltPut,
    HaltRecord,
    HaltRemoved,
    Member,
    MemberLost,
    Release,
    ReleaseChanged,
    Watcher,
)
from interlock.domain.enums import HaltScope
from interlock.errors import ControlPlaneError

Clock = Callable[[], int]


class EmbeddedControlPlane:
    def __init__(self, release: Release | None = None, clock: Clock = time.time_ns) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._release = release or Release("", "", 1)
        self._members: dict[str, Member] = {}
        self._ttl: dict[str, int] = {}
        self._halts: dict[tuple[HaltScope, str], HaltRecord] = {}
        self._watchers: list[Watcher] = []

    def release(self) -> Release:
        return self._release

    def set_release(self, release: Release) -> None:
        with self._lock:
            if release.epoch <= self._release.epoch:
                raise ControlPlaneError(
                    f"release epoch {release.epoch} is not above current {self._release.epoch}"
                )
            self._release = release
        self._emit(ReleaseChanged(release))

    def register(self, attestation: Attestation, ttl_ns: int) -> int:
        if ttl_ns <= 0:
            raise ControlPlaneError(f"lease TTL must be positive, got {ttl_ns} ns")
        with self._lock:
            deadline = self._clock() + ttl_ns
            self._members[attestation.instance_id] = Member(attestation, deadline)
            self._ttl[attestation.instance_id] = ttl_ns
            return deadline

    def renew(self, instance_id: str) -> int:
        lost = False
        with self._lock:
            member = self._members.get(instance_id)
            now = self._clock()
            if member is None or member.lease_expires_ns <= now:
                self._members.pop(instance_id, None)
                lost = True
            else:
                deadline = now + self._ttl[instance_id]
                self._members[instance_id] = Member(member.attestation, deadline)
        if lost:
            self._emit(MemberLost(instance_id))
            raise ControlPlaneError(f"lease of instance {instance_id} has expired or never existed")
        return deadline

    def leave(self, instance_id: str) -> None:
        with self._lock:
            self._members.pop(instance_id, None)
            self._ttl.pop(instance_id, None)

    def members(self) -> list[Member]:
        now = self._clock()
        with self._lock:
            return [m for m in self._members.values() if m.lease_expires_ns > now]

    def put_halt(self, halt: HaltRecord) -> None:
        with self._lock:
            self._halts[halt.key] = halt
        self._emit(HaltPut(halt))

    def remove_halt(self, scope: HaltScope, target: str, who: str) -> bool:
        with self._lock:
            existed = self._halts.pop((scope, target), None) is not None
        if existed:
            self._emit(HaltRemoved(scope, target, who, self._clock()))
        return existed

    def halts(self) -> list[HaltRecord]:
        with self._lock:
            return list(self._halts.values())

    def watch(self, watcher: Watcher) -> Callable[[], None]:
        with self._lock:
            self._watchers.append(watcher)

        def unsubscribe() -> None:
            with self._lock:
                if watcher in self._watchers:
                    self._watchers.remove(watcher)

        return unsubscribe

    def _emit(self, event: ControlEvent) -> None:
        with self._lock:
            watchers = list(self._watchers)
        for w in watchers:
            w(event)
