"""The control plane's records (release, attestation, member, halt, proposal) and the
events its watch delivers; the ports that store and announce them are `control.ports`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from interlock.domain.enums import HaltScope
from interlock.domain.flag_events import FlagEvent
from interlock.domain.limit_events import FleetLimitChange
from interlock.flags.manifest import FlagManifest


@dataclass(frozen=True, slots=True)
class Release:
    """The one approved build, flag manifest, config and epoch, and the members it was
    committed with. An empty digest approves any; empty `members` means none were named, so
    the quorum is taken over the live members. `config_digest` is the fleet-wide settings'
    (`GatewayConfig.fleet_digest()`): an instance on other limits is not attested."""

    build_digest: str
    flag_digest: str
    epoch: int
    members: tuple[str, ...] = ()
    config_digest: str = field(default="", kw_only=True)


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
    """A deploy in progress: the build, flags and config every expected member must restart
    on (or, for a limit change, apply it) and attest before `commit` may release them at
    `base_epoch + 1` ("" approves any)."""

    build_digest: str
    flag_digest: str
    members: tuple[str, ...]
    base_epoch: int
    who: str
    ts: int
    config_digest: str = field(default="", kw_only=True)
    limits: FleetLimitChange | None = field(default=None, kw_only=True)
    """A limit change each member applies before it attests `config_digest` (the fleet
    config with those limits); None for a deploy of a build."""


@dataclass(frozen=True, slots=True)
class CommitResult:
    """What an atomic commit judged: the release it made (None if refused), the proposal
    and release it found, and the live members it compared."""

    committed: Release | None
    proposal: Proposal | None
    release: Release
    members: tuple[Member, ...]


def commit_verdict(proposal: Proposal, release: Release, live: Iterable[Member]) -> Release | None:
    """The release a commit makes, or None: the rule every backend applies atomically.

    The release must still be at the proposal's base epoch, and every member it expects
    must be live, attest its build, flags and config, and hold a manifest the registry
    accepts."""
    p = proposal
    if release.epoch != p.base_epoch:
        return None
    attesting = {
        m.instance_id
        for m in live
        if (m.attestation.build_digest, m.attestation.flag_digest)
        == (p.build_digest, p.flag_digest)
        and p.config_digest in ("", m.attestation.config_digest)
        and not m.flag_refusal
    }
    if not attesting.issuperset(p.members):
        return None
    return Release(p.build_digest, p.flag_digest, p.base_epoch + 1, p.members,
                   config_digest=p.config_digest)  # fmt: skip


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
    """The member left or its lease expired (its budget slices stay held: see BudgetPort)."""

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
