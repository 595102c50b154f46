"""The control plane port: release, members bound to leases, halts and their confirmations,
deploy proposals, budget slices, the flag registry, epoch, watches.

Two backends share these semantics and one conformance suite (tests/control): `embedded`
(in-process, the default) and `etcd` (a real Raft cluster, for fleets of processes; a later
issue). Instances never ask it per order: they keep a cached view that its watch callbacks
refresh. Every method that changes several records does so atomically, so a deploy commit
either flips the release and bumps the epoch with every expected member attested, or
changes nothing.

The plane owns the flag registry (DESIGN.md invariant 6). The rules are the registry's
(`interlock.flags.FlagRegistry`); the plane adds what only it knows: which members are live.
Each attestation carries its build's flag manifest, and the plane judges it on join and
again after every flag change (`Member.flag_refusal`); a member it refuses is live (it
holds a lease, so enabling a flag still has to reckon with it) but not attested.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from interlock.domain.enums import HaltScope
from interlock.domain.flag_events import FlagEvent
from interlock.flags.manifest import FlagManifest
from interlock.flags.registry import Flag, FlagRegistry


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
    """What an instance says it is running, registered under its lease.

    `manifest` is the flag manifest whose digest is `flag_digest`: the plane verifies the two
    agree and judges the manifest against its flag registry. An attestation without one
    declares no flag at all (`flag_digest` is then only a label)."""

    instance_id: str
    build_digest: str
    flag_digest: str
    config_digest: str
    host: str
    pid: int
    manifest: FlagManifest | None = None


@dataclass(frozen=True, slots=True)
class Member:
    """A live member. `flag_refusal` says why the flag registry refuses its manifest (a
    retired flag read, a name mapped to another id, ...); empty when it accepts it."""

    attestation: Attestation
    lease_expires_ns: int
    flag_refusal: str = ""

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
    """`instance_id` applied `halt`: it accepts no order the halt covers, sends none it has
    not handed over yet, and every covered order is cancelled at the venue except
    `pending_cancel` of them, whose cancel is sent (or follows the hand-over under way) but
    not yet confirmed by the venue."""

    instance_id: str
    halt: HaltRecord
    ts: int
    pending_cancel: int = 0


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


@dataclass(frozen=True, slots=True)
class FlagChanged:
    """The flag registry changed by `change`. `enabled`: the flag ids on after it.
    `version`: how many changes the registry holds after it (a snapshot folded from as many
    is as new). `refused`: every live member whose manifest the registry now refuses, with
    why (sorted by member); every live member not named is accepted."""

    change: FlagEvent
    enabled: frozenset[int]
    version: int
    refused: tuple[tuple[str, str], ...] = ()


ControlEvent = (
    HaltPut
    | HaltRemoved
    | HaltConfirmed
    | ReleaseChanged
    | MemberJoined
    | MemberLost
    | ProposalPut
    | ProposalAborted
    | FlagChanged
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
        every member it expects is live, attests its build and flags, and has a manifest the
        flag registry accepts, make it the release at `base_epoch + 1` and clear it.
        Otherwise change nothing."""
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

    def confirm_halt(self, instance_id: str, halt: HaltRecord, pending_cancel: int = 0) -> None:
        """`instance_id` has applied `halt`, with `pending_cancel` covered orders whose
        cancel the venue has not confirmed yet; ignored if that record is no longer in force."""
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

    def release_slices(self, instance_id: str) -> None:
        """Operator action: free a departed instance's budget slices (refused while live)."""
        ...

    def slices(self, budget: str) -> dict[str, int]:
        """Every slice of `budget` in force, by instance."""
        ...

    # -- flags ----------------------------------------------------------------------------
    # Each change is the registry's (FlagError when its rules refuse it, and nothing
    # changes); a change that changed something is announced as one FlagChanged, after
    # every live member's manifest was judged again. A change that was already so (the
    # same identity registered again, a flag already off disabled) announces nothing.

    def flag_registry(self) -> FlagRegistry:
        """A snapshot of the flag registry: a copy, so changing it changes nothing here."""
        ...

    def register_flag(self, name: str, flag_id: int, meaning: str, owner: str) -> Flag:
        """Bind `name` to `flag_id` and `meaning` for good."""
        ...

    def retire_flag(self, name: str, who: str) -> Flag:
        """Leave a tombstone; a live member whose manifest still reads it is refused."""
        ...

    def enable_flag(self, name: str, who: str) -> Flag:
        """Switch a flag on, only if every member whose lease is fresh now (attested or
        not) declares its id under its name: the registry's preflight, run on their
        manifests."""
        ...

    def disable_flag(self, name: str, who: str) -> Flag:
        """Switch a flag off (always allowed)."""
        ...

    # -- watch ----------------------------------------------------------------------------

    def watch(self, watcher: Watcher) -> Callable[[], None]:
        """Deliver every later change to `watcher`; returns a function that unsubscribes."""
        ...
