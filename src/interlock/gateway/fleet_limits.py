"""A limit change the whole fleet applies, under one epoch, through the deploy mechanism.

With other live members, a lowering is not applied on the member that received it: it is
published as a deploy proposal (control/deploy.py) that carries the change
(`Proposal.limits`) and the config digest the fleet will have with it. Every expected member
sees the proposal in its watch, applies the change through the same journaled path as a
change of its own (`LimitChanges.apply_fleet`: a `LimitChangeApplied` citing the epoch
it is released at), and registers anew on the new config digest. The proposer waits for
them, then commits: the release names the new digest at epoch + 1. A member that did not
apply in time is left out of a second proposal of the same change, so the commit goes
through without it; it is then fenced as a deploy's straggler is (INSTANCE_NOT_ATTESTED:
its config is not the released one; STALE_EPOCH), refusing orders rather than trading on
the old limits. Between the apply and the commit, the members that applied are not
attested either (their config is not yet released): the fleet pauses for that instant.

A restart folds the journal (the change is re-applied on top of the config file) and
attests the config digest of the limits in force, so it rejoins on the released digest.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Collection

import msgspec

from interlock.control.deploy import Deployment
from interlock.control.plane import Proposal
from interlock.domain.clock import Clock
from interlock.domain.limit_events import FleetLimitChange
from interlock.domain.reject import RejectCode, Rejection, reject
from interlock.errors import ConfigError, ControlPlaneError, DeployError
from interlock.gateway.auth import Principal
from interlock.gateway.config import GatewayConfig
from interlock.gateway.limit_changes import (
    APPLIED,
    LimitChange,
    LimitChanges,
    four_eyes_refusal,
    not_found,
    stale_refusal,
)
from interlock.gateway.membership import FleetMembership
from interlock.risk.limit_paths import apply_items, stale
from interlock.risk.limits import LimitsConfig

_log = logging.getLogger(__name__)
_POLL_S = 0.005


def config_digest_with(config: GatewayConfig, limits: LimitsConfig) -> str:
    """The fleet digest of `config` with `limits` in force: what a member attests."""
    return config.model_copy(update={"limits": limits}).fleet_digest()


class FleetLimits:
    """Publishes this member's fleet changes and applies every member's (watch side)."""

    def __init__(
        self,
        config: GatewayConfig,
        changes: LimitChanges,
        fleet: FleetMembership,
        limits: Callable[[], LimitsConfig],
        *,
        symbols: Collection[str],
        clock: Clock,
    ) -> None:
        self._config = config
        self._changes = changes
        self._fleet = fleet
        self._limits = limits  # the limits in force (the book's)
        self._symbols = symbols
        self._clock = clock
        changes.publish = self.publish
        changes.approve_fleet = self.approve
        changes.withdraw_fleet = self.withdraw
        fleet.limits_proposed = self.on_proposal

    def attest_in_force(self) -> None:
        """After the fold: attest the limits a fleet change left in force, not the file's."""
        if self._changes.fleet_epoch:
            self._fleet.use_config(config_digest_with(self._config, self._limits()))

    # -- the proposer's side -------------------------------------------------------------

    def publish(self, change: FleetLimitChange, new: LimitsConfig) -> LimitChange | Rejection:
        """Propose `change` to every live member; a lowering (or an approved raise) is then
        applied: wait for the members, commit at epoch + 1. A raise waits in the plane."""
        plane, me = self._fleet.plane, self._fleet.attestation
        deploy = Deployment(plane, who=change.approver or change.proposer)
        digest = config_digest_with(self._config, new)
        try:
            members = sorted(m.instance_id for m in plane.members())
            if not change.appliable:
                p = deploy.propose(me.build_digest, me.flag_digest, members,
                                   config_digest=digest, limits=change)  # fmt: skip
                return LimitChange(change.change_id, change.proposer, change.items,
                                   change.reason, True, p.ts, change.expires_ts)  # fmt: skip
            for attempt in (1, 2):
                deploy.propose(me.build_digest, me.flag_digest, members,
                               config_digest=digest, limits=change)  # fmt: skip
                ready = self._wait_ready(deploy, members)
                if ready == members:
                    deploy.commit()
                    break
                missing = ", ".join(sorted(set(members) - set(ready)))
                deploy.abort(f"limit change {change.change_id}: {missing} did not apply it")
                if attempt == 2 or self._fleet.instance_id not in ready:
                    return self._refused(change, "the members did not apply it")
                members = ready  # the rest are left on the old release: fenced
        except (DeployError, ControlPlaneError) as exc:
            return self._refused(change, str(exc))
        done = self._changes.change(change.change_id)
        if done is None or done.status != APPLIED:
            return self._refused(change, "this member did not apply it")
        return done

    def approve(self, who: Principal, change_id: str) -> LimitChange | Rejection:
        """Approve the raise pending in the plane (whichever member proposed it), if `who`
        is not its proposer and it still fits; then release it as `publish` does."""
        try:
            return self._approve(who, change_id)
        except ControlPlaneError as exc:
            return self._refused_id(change_id, str(exc))

    def _approve(self, who: Principal, change_id: str) -> LimitChange | Rejection:
        plane = self._fleet.plane
        pending = plane.proposal()
        change = pending.limits if pending is not None else None
        if change is None or change.change_id != change_id or change.appliable:
            return not_found(change_id, f"no limit raise {str(change_id)[:40]} pending in the "
                                        "fleet")  # fmt: skip
        if self._clock() >= change.expires_ts:
            plane.abort_proposal(who.name, f"limit change {change_id} expired")
            return not_found(change_id, f"limit change {change_id} is expired, not pending")
        if change.proposer == who.name:
            return four_eyes_refusal(change_id, who.name)
        limits = self._limits()
        why = stale(limits, change.items, self._symbols)
        if why:
            return stale_refusal(change_id, why)
        try:
            new = apply_items(limits, change.items, self._symbols)
        except ConfigError as e:
            return reject(RejectCode.CONFIG_INVALID,
                          f"limit change {change_id} would make the limits invalid: {e}",
                          limit="valid limits", attempted=change_id)  # fmt: skip
        taken = plane.abort_proposal(who.name, f"limit change {change_id} approved by {who.name}")
        if taken != pending:  # another approver (or a decline) took it first
            return not_found(change_id, f"limit change {change_id} was closed meanwhile")
        return self.publish(msgspec.structs.replace(change, approver=who.name), new)

    def withdraw(self, who: Principal, change_id: str, reason: str) -> Rejection | None:
        """Take a pending raise out of the plane (declined): no member may approve it."""
        try:
            pending = self._fleet.plane.proposal()
            change = pending.limits if pending is not None else None
            if change is not None and change.change_id == change_id and not change.appliable:
                self._fleet.plane.abort_proposal(who.name, f"declined: {reason}"[:200])
        except ControlPlaneError as exc:
            return self._refused_id(change_id, str(exc))
        return None

    def _wait_ready(self, deploy: Deployment, members: list[str]) -> list[str]:
        """The expected members attesting the proposal, once all do or the wait is over."""
        deadline = time.monotonic() + self._config.limit_changes.fleet_apply_ms / 1_000
        stop = threading.Event()
        while True:
            ready = sorted(r.instance_id for r in deploy.readiness() if r.ready)
            if ready == members or time.monotonic() >= deadline:
                return ready
            stop.wait(_POLL_S)

    def _refused(self, change: FleetLimitChange, why: str) -> Rejection:
        return self._refused_id(change.change_id, why)

    def _refused_id(self, change_id: str, why: str) -> Rejection:
        return reject(RejectCode.LIMIT_CHANGE_FLEET,
                      f"limit change {change_id} could not be released to the fleet: {why}",
                      limit="every live member applies it", attempted=change_id)  # fmt: skip

    # -- every member's side (the watch) ---------------------------------------------------

    def on_proposal(self, proposal: Proposal) -> None:
        """A proposal carrying a limit change: apply it, then attest the new config (a raise
        not approved by a second risk principal is only noted as pending)."""
        change = proposal.limits
        if change is None or self._fleet.instance_id not in proposal.members:
            return
        applied = self._changes.apply_fleet(change, proposal.base_epoch + 1)
        if not change.appliable:
            return
        if not applied:
            _log.error("%s: could not apply fleet limit change %s: this member stays on its "
                       "limits and is fenced at the commit", self._fleet.instance_id,
                       change.change_id)  # fmt: skip
            return
        digest = config_digest_with(self._config, self._limits())
        if digest != self._fleet.attestation.config_digest:
            self._fleet.reattest(digest)
