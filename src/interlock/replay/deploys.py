"""What the people did to the fleet that day, through Interlock's deploy and flag APIs.

Knight's world (the `no_fleet_gate:*` runs): the RLP build is deployed at 07:00 and one
server keeps the old build. The commit is refused (the control plane is real), but with
the fleet gate off nothing stops the routers, as nothing did at Knight. At the fix the
seven good servers are rolled back: a deploy of the old build, which commits.

Interlock's world (`full`): Power Peg's flag exists (id 1), and the RLP work tries to reuse
it, which the registry refuses; RLP gets its own identity, Power Peg's flag is retired, and
the RLP build passes the release gate (the flag linter) and is deployed. The commit is
refused naming gw-8; enabling "rlp" is refused while gw-8 is live without it; the
operators redeploy to the seven, which fences gw-8. At the fix the rollback is refused by
the release gate: the old build reads a retired flag. Each refusal is a note of the run.
"""

from __future__ import annotations

from collections.abc import Iterable

from interlock.control.deploy import Deployment, ProposalCheck
from interlock.control.embedded import EmbeddedControlPlane
from interlock.control.plane import Proposal
from interlock.domain.clock import ManualClock
from interlock.errors import DeployError, FlagError
from interlock.flags.lint import lint
from interlock.replay.flags import KNIGHT_BIT, LEGACY_SOURCE, RLP_ID, RLP_SOURCE
from interlock.replay.fleet import ReplayFleet
from interlock.replay.scenario import SERVERS, STALE, Scenario
from interlock.replay.smars import PowerPegRouter, RlpRouter

SEVEN = tuple(s for s in SERVERS if s != STALE)
OLD, NEW = PowerPegRouter.build, RlpRouter.build


class Deploys:
    def __init__(
        self, scenario: Scenario, clock: ManualClock, notes: list[str], *, interlock: bool
    ) -> None:
        self.scenario = scenario
        self.clock = clock
        self.notes = notes
        self.interlock = interlock
        self.plane: EmbeddedControlPlane | None = None

    def setup(self, plane: EmbeddedControlPlane) -> None:
        """The flag registry before the fleet starts (Interlock's world only)."""
        self.plane = plane
        if self.interlock:
            plane.register_flag("power_peg", KNIGHT_BIT, "Power Peg parent-order slicer "
                                "(unused since 2003)", "smars")  # fmt: skip

    def _gate(self, source: str) -> ProposalCheck:
        plane = self.plane
        assert plane is not None

        def gate(_: Proposal) -> Iterable[object]:
            return lint([source], plane.flag_registry(), "flag registry")

        return gate

    def deploy(self, fleet: ReplayFleet) -> None:
        plane = fleet.plane
        ops = Deployment(plane, who="release-eng", clock=self.clock)
        if self.interlock:
            try:
                plane.register_flag("rlp", KNIGHT_BIT, "Retail Liquidity Program routing", "smars")
            except FlagError as exc:
                self.notes.append(f"reusing Power Peg's flag for RLP refused: {exc}")
            plane.register_flag("rlp", RLP_ID, "Retail Liquidity Program routing", "smars")
            plane.retire_flag("power_peg", "release-eng")
        gate = self._gate(str(RLP_SOURCE)) if self.interlock else None
        ops.propose(NEW, fleet.flag_digest(NEW), SERVERS, gate, config_digest=fleet.config_digest)
        for server in SEVEN:  # the technician's copy did not reach gw-8
            fleet.restart(server, NEW)
        try:
            ops.commit()
            self.notes.append("deploy committed")
        except DeployError as exc:
            self.notes.append(f"deploy commit refused: {exc}")
        if not self.interlock:
            return
        try:
            plane.enable_flag("rlp", "release-eng")
            self.notes.append("flag 'rlp' enabled")
        except FlagError as exc:
            self.notes.append(f"enabling 'rlp' refused: {exc}")
        ops.abort(f"{STALE} kept the old build")
        ops.propose(NEW, fleet.flag_digest(NEW), SEVEN, gate, config_digest=fleet.config_digest)
        release = ops.commit()
        self.notes.append(f"redeployed to the seven good servers at epoch {release.epoch}; "
                          f"{STALE} is fenced")  # fmt: skip

    def fix(self, fleet: ReplayFleet) -> None:
        """The 'fix': roll the seven good servers back to the old build."""
        plane = fleet.plane
        ops = Deployment(plane, who="trading-ops", clock=self.clock)
        if plane.proposal() is not None:
            ops.abort("rolling back")
        gate = self._gate(str(LEGACY_SOURCE)) if self.interlock else None
        try:
            ops.propose(
                OLD, fleet.flag_digest(OLD), SERVERS, gate, config_digest=fleet.config_digest
            )
        except DeployError as exc:
            self.notes.append(f"rollback refused: {exc}")
            return
        for server in SEVEN:
            fleet.restart(server, OLD)
        try:
            ops.commit()
            self.notes.append("rollback committed: all eight servers run the old build")
        except DeployError as exc:
            self.notes.append(f"rollback commit refused: {exc}")
