"""The control plane's ports, one concern each, and `ControlPlane`, all of them together.

Two backends implement every port with the same semantics, checked by one conformance file
per port (tests/control/test_port_*.py) run against each: `embedded` (in-process, exact and
synchronous: the default, and the replay's fleet of eight) and `etcd` (a real Raft cluster,
for fleets of processes on one machine or many). Instances never ask the plane per order:
they keep a cached view that the watch refreshes. Every call that changes several records
does so atomically (one lock embedded, one compare-and-swap transaction on etcd), so a
deploy commit either flips the release and bumps the epoch with every expected member
attested, or changes nothing, and two operators racing cannot both win.

The plane owns the flag registry (DESIGN.md invariant 6). The rules are the registry's
(`interlock.flags.FlagRegistry`); the plane adds what only it knows: which members are live.
Each attestation carries its build's flag manifest, and the plane judges it on join and
again after every flag change (`Member.flag_refusal`); a member it refuses is live (it
holds a lease, so enabling a flag still has to reckon with it) but not attested.

A caller that needs one concern takes that port (budget slices take `BudgetPort`); the
gateway, which needs them all, takes `ControlPlane`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from interlock.control.plane import (
    Attestation,
    CommitResult,
    HaltRecord,
    Member,
    Proposal,
    Release,
    Watcher,
)
from interlock.domain.enums import HaltScope
from interlock.flags.registry import Flag, FlagRegistry


class ReleasePort(Protocol):
    """The one approved release, and deploys as proposals committed atomically."""

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
        every member it expects is live, attests its build, flags and config (any config
        when the proposal names none), and has a manifest the flag registry accepts, make it
        the release at `base_epoch + 1` (with that config digest) and clear it. Otherwise
        change nothing."""
        ...


class MembershipPort(Protocol):
    """Members, each bound to a lease that expires unless renewed."""

    def register(self, attestation: Attestation, ttl_ns: int) -> int:
        """Join under a lease of `ttl_ns`; returns the lease deadline (ns)."""
        ...

    def renew(self, instance_id: str) -> int:
        """Extend the lease; returns the new deadline. Raises ControlPlaneError if lost, or
        if this client's view of the plane is not current (so a member whose watch died
        lets its deadline pass and stops routing by itself)."""
        ...

    def leave(self, instance_id: str) -> None: ...

    def members(self) -> list[Member]:
        """Members whose lease is still fresh."""
        ...


class HaltPort(Protocol):
    """Kill-switch records and each member's confirmation that it applied them."""

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


class BudgetPort(Protocol):
    """Fleet-wide limits cut into slices, one per member, that never add up past the limit."""

    def lease_slice(self, budget: str, instance_id: str, limit: int, want: int) -> int:
        """Ask for `instance_id`'s slice of `budget` to become `want`; returns the slice
        granted. Shrinking is always granted; growth up to what the other slices leave of
        `limit`. Slices are held while the member is live and stay held after it is lost
        (its positions outlive its lease). Raises ControlPlaneError if the member holds no
        lease or `limit` disagrees with the limit other holders use."""
        ...

    def release_slices(self, instance_id: str) -> None:
        """Operator action: free a departed instance's budget slices (refused while live)."""
        ...

    def slices(self, budget: str) -> dict[str, int]:
        """Every slice of `budget` in force, by instance."""
        ...


class FlagPort(Protocol):
    """The fleet's flag registry.

    Each change is the registry's (FlagError when its rules refuse it, and nothing
    changes); a change that changed something is announced as one FlagChanged, after
    every live member's manifest was judged again. A change that was already so (the
    same identity registered again, a flag already off disabled) announces nothing.
    """

    def flag_registry(self) -> FlagRegistry:
        """A snapshot of the flag registry: a copy, so changing it changes nothing here."""
        ...

    def register_flag(self, name: str, flag_id: int, meaning: str, owner: str) -> Flag:
        """Bind `name` to `flag_id` and `meaning` for good."""
        ...

    def retire_flag(self, name: str, who: str) -> Flag:
        """Leave a tombstone. Refused (FlagError naming them, nothing changed) while any
        member whose lease is fresh now (attested or not) reads it, by its name or its id;
        a member that joins later reading it is refused."""
        ...

    def enable_flag(self, name: str, who: str) -> Flag:
        """Switch a flag on, only if every member whose lease is fresh now (attested or
        not) declares its id under its name: the registry's preflight, run on their
        manifests."""
        ...

    def disable_flag(self, name: str, who: str) -> Flag:
        """Switch a flag off (always allowed)."""
        ...


class WatchPort(Protocol):
    """Changes pushed to subscribers, in the order the plane made them."""

    def watch(self, watcher: Watcher) -> Callable[[], None]:
        """Deliver every later change to `watcher`; returns a function that unsubscribes."""
        ...


class ControlPlane(
    ReleasePort, MembershipPort, HaltPort, BudgetPort, FlagPort, WatchPort, Protocol
):
    """Every port: what a fleet member (the gateway) needs of the plane."""
