"""Deploys as transactions: propose, every expected instance restarts and attests, commit.

Knight's deploy was a technician copying files to eight servers; one copy silently did not
happen and nothing noticed. Here `commit` flips the release and bumps the epoch atomically
(in the control plane), and only when every expected member is live, attests the
proposed build, flags and config, and has a flag manifest the flag registry accepts;
otherwise it raises `DeployError` naming each member that is missing, runs something else
(another build, flags or config) or is refused by the registry, and nothing changes. A
straggler left on the old build, or on edited limits, is fenced by the epoch and the
release (STALE_EPOCH, INSTANCE_NOT_ATTESTED). A rollback is a deploy of the previous
build: it goes through the same steps and bumps the epoch again.

`propose` first runs the release gate, if one is given (a callable that returns its
findings, empty when the release is clean; `flag_preflight.flag_preflight` builds the flag
one: linter, manifest check, manifest digest); any finding refuses the proposal.

Deploy out of hours: an instance restarted onto the proposal is not attested until commit,
and once more than half the expected members have restarted, the old release has lost its
quorum and the fleet stops routing (FLEET_NO_QUORUM) until the commit. That is fail-closed
by design: there is never a moment when two releases both have a quorum.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from interlock.control.attestation import short
from interlock.control.plane import CommitResult, Member, Proposal, Release
from interlock.control.ports import ControlPlane
from interlock.domain.limit_events import FleetLimitChange
from interlock.errors import DeployError

ProposalCheck = Callable[[Proposal], Iterable[object]]
"""Given the proposal, return findings (anything printable); none means the gate passes."""


@dataclass(frozen=True, slots=True)
class Readiness:
    """One expected member, against the pending proposal."""

    instance_id: str
    attests: str | None  # "build X, flags Y" it attests, or None when it holds no lease
    ready: bool


class Deployment:
    """The operator's side of a deploy, on any ControlPlane backend."""

    def __init__(
        self, plane: ControlPlane, *, who: str = "operator", clock: Callable[[], int] = time.time_ns
    ) -> None:
        self.plane = plane
        self.who = who
        self._clock = clock

    def propose(
        self,
        build_digest: str,
        flag_digest: str,
        expected_members: Sequence[str],
        preflight: ProposalCheck | None = None,
        *,
        config_digest: str | None = None,
        limits: FleetLimitChange | None = None,
    ) -> Proposal:
        """`config_digest`: the fleet config every member must attest (`GatewayConfig.
        fleet_digest()`); None keeps the current release's, "" approves any. `limits`: a
        limit change every member applies in place of a restart (gateway/fleet_limits.py)."""
        members = tuple(expected_members)
        problems = []
        if not build_digest:
            problems.append("the proposal names no build digest")
        if not members:
            problems.append("the proposal expects no members")
        if len(set(members)) != len(members):
            problems.append(f"expected members repeat: {', '.join(members)}")
        pending = self.plane.proposal()
        if pending is not None:
            problems.append(
                f"a deploy of build {short(pending.build_digest)} proposed by {pending.who} is "
                "pending: commit or abort it first"
            )
        release = self.plane.release()
        config = release.config_digest if config_digest is None else config_digest
        proposal = Proposal(build_digest, flag_digest, members, release.epoch, self.who,
                            self._clock(), config_digest=config, limits=limits)  # fmt: skip
        if not problems and preflight is not None:
            problems += [f"release gate: {f}" for f in preflight(proposal)]
        if problems:
            raise DeployError("propose", problems)
        if not self.plane.put_proposal(proposal):
            raise DeployError("propose", ["another deploy was proposed meanwhile"])
        return proposal

    def commit(self) -> Release:
        """Release the proposal at the next epoch, or raise DeployError; nothing changes then."""
        result = self.plane.commit_proposal(self.who)
        if result.committed is not None:
            return result.committed
        lines, at_fault = _refusals(result)
        raise DeployError("commit", lines, at_fault)

    def abort(self, reason: str = "aborted by the operator") -> Proposal:
        proposal = self.plane.abort_proposal(self.who, reason)
        if proposal is None:
            raise DeployError("abort", ["no deploy is pending"])
        return proposal

    def readiness(self) -> list[Readiness]:
        """Each expected member of the pending proposal: does it attest it yet?"""
        proposal = self.plane.proposal()
        if proposal is None:
            return []
        live = {m.instance_id: m for m in self.plane.members()}
        out = []
        for member_id in proposal.members:
            m = live.get(member_id)
            attests = None if m is None else _attests(m)
            ready = m is not None and _matches(m, proposal) and not m.flag_refusal
            out.append(Readiness(member_id, attests, ready))
        return out


def _attests(m: Member) -> str:
    a = m.attestation
    return f"build {short(a.build_digest)}, flags {short(a.flag_digest)}"


def _matches(m: Member, p: Proposal) -> bool:
    a = m.attestation
    same = (a.build_digest, a.flag_digest) == (p.build_digest, p.flag_digest)
    return same and p.config_digest in ("", a.config_digest)


def _other_config(m: Member, p: Proposal) -> str:
    return f"config {short(m.attestation.config_digest)}, not the proposed {short(p.config_digest)}"


def _refusals(result: CommitResult) -> tuple[list[str], list[str]]:
    """One line per reason the commit was refused, and the members at fault."""
    p = result.proposal
    if p is None:
        return ["no deploy is pending"], []
    if result.release.epoch != p.base_epoch:
        moved = f"the release moved from epoch {p.base_epoch} to {result.release.epoch}"
        return [f"{moved} since the proposal: propose again"], []
    live = {m.instance_id: m for m in result.members}
    wanted = f"build {short(p.build_digest)}, flags {short(p.flag_digest)}"
    lines, at_fault = [], []
    for member_id in p.members:
        m = live.get(member_id)
        if m is None:
            lines.append(f"{member_id}: missing (no fresh lease)")
        elif not _matches(m, p):
            line = f"{member_id}: attests {_attests(m)}, not the proposed {wanted}"
            if _attests(m) == wanted:  # the right build and flags, on another config
                line = f"{member_id}: attests {wanted}, but {_other_config(m, p)}"
            elif p.config_digest not in ("", m.attestation.config_digest):
                line += f", and {_other_config(m, p)}"
            if m.flag_refusal:
                line += f", and the flag registry refuses it: {m.flag_refusal}"
            lines.append(line)
        elif m.flag_refusal:
            lines.append(f"{member_id}: attests {wanted}, but the flag registry refuses it: "
                         f"{m.flag_refusal}")  # fmt: skip
        else:
            continue
        at_fault.append(member_id)
    return lines or ["the control plane refused the commit"], at_fault
