"""The control plane port: release, members bound to leases, halts and their confirmations,
deploy proposals, budget slices, epoch, watches.

Two backends share these semantics and one conformance suite (tests/control): `embedded`
(in-process, the default) and `etcd` (a real Raft cluster, for fleets of processes; a later
issue). Instances never ask it per order: they keep a cached view that its watch callbacks
refresh. Every method that changes several records does so atomically, so a deploy commit
either flips the release and bumps the epoch with every expected member attested, or
changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from interlock.domain.enums import HaltScope


@dataclass(frozen=True, slots=True)
class Release:
    """The one approved build, flag manifest and epoch, and the members it was committed
    with. An empty digest approves any; empty `members` means none were named, so the
    quorum is taken over the live members."""

    build_digest: str
    flag_digest: str
    epoch: int
    members: tuple[str, ...] = ()


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

    @property
    def instance_id(self) -> str:
        return self.attestation.instance_id


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
class Proposal:
    """A deploy in progress: the build and flags every expected member must restart on and
    attest before `commit` may release them at `base_epoch + 1`."""

    build_digest: str
    flag_digest: str
    members: tuple[str, ...]
    base_epoch: int
    who: str
    ts: int


@dataclass(frozen=True, slots=True)
class CommitResult:
    """What an atomic commit judged: the release it made (None if refused), the proposal
    and release it found, and the live members it compared."""

    committed: Release | None
    proposal: Proposal | None
    release: Release
    members: tuple[Member, ...]


# -- watch events ---------------------------------------------------------------------


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
class HaltConfirmed:
    """`instance_id` applied `halt`: it accepts no order the halt covers."""

    instance_id: str
    halt: HaltRecord
    ts: int


@dataclass(frozen=True, slots=True)
class ReleaseChanged:
    release: Release
    who: str = ""


@dataclass(frozen=True, slots=True)
class MemberJoined:
    member: Member


@dataclass(frozen=True, slots=True)
class MemberLost:
    """The member left or its lease expired; its budget slices are returned."""

    instance_id: str


@dataclass(frozen=True, slots=True)
class ProposalPut:
    proposal: Proposal


@dataclass(frozen=True, slots=True)
class ProposalAborted:
    proposal: Proposal
    who: str
    reason: str


ControlEvent = (
    HaltPut
    | HaltRemoved
    | HaltConfirmed
    | ReleaseChanged
    | MemberJoined
    | MemberLost
    | ProposalPut
    | ProposalAborted
)
Watcher = Callable[[ControlEvent], None]


class ControlPlane(Protocol):
    # -- release and deploys ------------------------------------------------------------

    def release(self) -> Release: ...

    def set_release(self, release: Release, who: str = "") -> None:
        """Replace the release outright (operator override); its epoch must be above the
        current one. Only members it names that attest it move to the new epoch; every
        other instance is fenced until it rejoins."""
        ...

    def put_proposal(self, proposal: Proposal) -> bool:
        """Store a deploy proposal; False (and nothing stored) if one is already pending."""
        ...

    def proposal(self) -> Proposal | None: ...

    def abort_proposal(self, who: str, reason: str) -> Proposal | None:
        """Drop the pending proposal (None if there was none); the release is unchanged."""
        ...

    def commit_proposal(self, who: str) -> CommitResult:
        """Atomically: if a proposal is pending, the release is still at its base epoch, and
        every member it expects is live and attests its build and flags, make it the release
        at `base_epoch + 1` and clear it. Otherwise change nothing."""
        ...

    # -- members and leases -------------------------------------------------------------

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

    # -- halts ----------------------------------------------------------------------------

    def put_halt(self, halt: HaltRecord) -> None: ...

    def remove_halt(self, scope: HaltScope, target: str, who: str) -> bool:
        """Lift a halt; False if there was none for that scope and target."""
        ...

    def halts(self) -> list[HaltRecord]: ...

    def confirm_halt(self, instance_id: str, halt: HaltRecord) -> None:
        """`instance_id` has applied `halt`; ignored if that record is no longer in force."""
        ...

    def halt_confirmations(self, halt: HaltRecord) -> frozenset[str]:
        """Instances that confirmed this very record (empty once it is replaced or lifted)."""
        ...

    # -- budgets --------------------------------------------------------------------------

    def lease_slice(self, budget: str, instance_id: str, limit: int, want: int) -> int:
        """Ask for `instance_id`'s slice of `budget` to become `want`; returns the slice
        granted. Shrinking is always granted; growth up to what the other slices leave of
        `limit`. Slices live under the member's lease and return when it is lost. Raises
        ControlPlaneError if the member holds no lease or `limit` disagrees with the limit
        other holders use."""
        ...

    def slices(self, budget: str) -> dict[str, int]:
        """Every slice of `budget` in force, by instance."""
        ...

    # -- watch ----------------------------------------------------------------------------

    def watch(self, watcher: Watcher) -> Callable[[], None]:
        """Deliver every later change to `watcher`; returns a function that unsubscribes."""
        ...
