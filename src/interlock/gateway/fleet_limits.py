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
from collections.abc import Callable

from interlock.control.deploy import Deployment
from interlock.control.plane import Proposal
from interlock.domain.limit_events import FleetLimitChange
from interlock.domain.reject import RejectCode, Rejection, reject
from interlock.errors import ControlPlaneError, DeployError
from interlock.gateway.config import GatewayConfig
from interlock.gateway.limit_changes import APPLIED, LimitChange, LimitChanges
from interlock.gateway.membership import FleetMembership
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
        wait_ms: int,
    ) -> None:
        self._config = config
        self._changes = changes
        self._fleet = fleet
        self._limits = limits  # the limits in force (the book's)
        self._wait_s = wait_ms / 1_000
        changes.publish = self.publish
        fleet.limits_proposed = self.on_proposal

    def attest_in_force(self) -> None:
        """After the fold: attest the limits a fleet change left in force, not the file's."""
        if self._changes.fleet_epoch:
            self._fleet.use_config(config_digest_with(self._config, self._limits()))

    # -- the proposer's side -------------------------------------------------------------

    def publish(self, change: FleetLimitChange, new: LimitsConfig) -> LimitChange | Rejection:
        """Propose `change` to every live member, wait for them, commit at epoch + 1."""
        plane, me = self._fleet.plane, self._fleet.attestation
        deploy = Deployment(plane, who=change.proposer)
        digest = config_digest_with(self._config, new)
        try:
            members = sorted(m.instance_id for m in plane.members())
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

    def _wait_ready(self, deploy: Deployment, members: list[str]) -> list[str]:
        """The expected members attesting the proposal, once all do or the wait is over."""
        deadline = time.monotonic() + self._wait_s
        stop = threading.Event()
        while True:
            ready = sorted(r.instance_id for r in deploy.readiness() if r.ready)
            if ready == members or time.monotonic() >= deadline:
                return ready
            stop.wait(_POLL_S)

    def _refused(self, change: FleetLimitChange, why: str) -> Rejection:
        return reject(RejectCode.LIMIT_CHANGE_FLEET,
                      f"limit change {change.change_id} could not be released to the fleet: "
                      f"{why}", limit="every live member applies it",
                      attempted=change.change_id)  # fmt: skip

    # -- every member's side (the watch) ---------------------------------------------------

    def on_proposal(self, proposal: Proposal) -> None:
        """A proposal carrying a limit change: apply it, then attest the new config."""
        change = proposal.limits
        if change is None or self._fleet.instance_id not in proposal.members:
            return
        if not self._changes.apply_fleet(change, proposal.base_epoch + 1):
            _log.error("%s: could not apply fleet limit change %s: this member stays on its "
                       "limits and is fenced at the commit", self._fleet.instance_id,
                       change.change_id)  # fmt: skip
            return
        digest = config_digest_with(self._config, self._limits())
        if digest != self._fleet.attestation.config_digest:
            self._fleet.reattest(digest)
