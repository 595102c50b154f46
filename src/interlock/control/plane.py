"""The control plane port: release, members bound to leases, halts, epoch, watches.

Two backends share these semantics and one conformance suite: `embedded` (in-process,
the default) and `etcd` (a real Raft cluster, for fleets of processes). Instances never
ask it per order: they keep a cached view that its watch callbacks refresh.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from interlock.domain.enums import HaltScope


@dataclass(frozen=True, slots=True)
class Release:
    """The one approved build, flag manifest and epoch. Epoch 0: nothing released yet."""

    build_digest: str
    flag_digest: str
    epoch: int


@dataclass(frozen=True, slots=True)
class Attestation:
    """What an instance says it is running, registered under its lease."""

    instance_id: str
    build_digest: str
    flag_digest: str
    config_digest: str
    host: str
    pid: int


@dataclass(frozen=True, slots=True)
class Member:
    attestation: Attestation
    lease_expires_ns: int


@dataclass(frozen=True, slots=True)
class HaltRecord:
    """One kill-switch record. `target` is empty for a global halt."""

    scope: HaltScope
    target: str
    reason: str
    who: str
    ts: int

    @property
    def key(self) -> tuple[HaltScope, str]:
        return (self.scope, self.target)


@dataclass(frozen=True, slots=True)
class HaltPut:
    halt: HaltRecord


@dataclass(frozen=True, slots=True)
class HaltRemoved:
    scope: HaltScope
    target: str
    who: str
    ts: int


@dataclass(frozen=True, slots=True)
class ReleaseChanged:
    release: Release


@dataclass(frozen=True, slots=True)
class MemberLost:
    instance_id: str


ControlEvent = HaltPut | HaltRemoved | ReleaseChanged | MemberLost
Watcher = Callable[[ControlEvent], None]


class ControlPlane(Protocol):
    def release(self) -> Release: ...

    def set_release(self, release: Release) -> None:
        """Replace the release; its epoch must be above the current one."""
        ...

    def register(self, attestation: Attestation, ttl_ns: int) -> int:
        """Join under a lease of `ttl_ns`; returns the lease deadline (ns)."""
        ...

    def renew(self, instance_id: str) -> int:
        """Extend the lease; returns the new deadline. Raises ControlPlaneError if lost."""
        ...

    def leave(self, instance_id: str) -> None: ...

    def members(self) -> list[Member]:
        """Members whose lease is still fresh."""
        ...

    def put_halt(self, halt: HaltRecord) -> None: ...

    def remove_halt(self, scope: HaltScope, target: str, who: str) -> bool:
        """Lift a halt; False if there was none for that scope and target."""
        ...

    def halts(self) -> list[HaltRecord]: ...

    def watch(self, watcher: Watcher) -> Callable[[], None]:
        """Deliver every later change to `watcher`; returns a function that unsubscribes."""
        ...
