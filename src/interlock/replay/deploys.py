"""What the people did to the fleet that day, through Interlock's deploy and flag APIs.

Knight's world (the `no_fleet_gate:*` runs): the RLP build is deployed at 07:00 and one
server keeps the old build. The commit is refused (the control plane is real), but with
the fleet gate off nothing stops the routers, as nothing did at Knight. At the fix the
seven good servers are rolled back: a deploy of the old build, which commits.

Interlock's world (`full`): Power Peg's flag exists (id 1), and the RLP work tries to reuse
it, which the registry refuses; RLP gets its own identity. Retiring Power Peg's flag is
refused: all eight old routers still read it (a retire never strands a live member). The
RLP build passes the release gate (`flag_preflight`, given the live members, so a flag they
still read is not "unread") and is deployed. The commit is refused naming gw-8; enabling
"rlp" is refused while gw-8 is live mapping it to id 1; the operators redeploy to the seven,
which fences gw-8, and retiring Power Peg is refused again, naming gw-8 alone. At the fix
the rollback is refused by the release gate: the old build's manifest maps "rlp" to Power
Peg's id (replay/flags.py says why it does), which the registry refuses. Each refusal is a
note of the run.
"""

from __future__ import annotations

from pathlib import Path

from interlock.control.deploy import Deployment, ProposalCheck
from interlock.control.embedded import EmbeddedControlPlane
from interlock.control.flag_preflight import flag_preflight
from interlock.control.fleetflags import live_manifests
from interlock.domain.clock import ManualClock
from interlock.errors import DeployError, FlagError
from interlock.replay.flags import (
    INTERLOCK_MANIFESTS,
    KNIGHT_BIT,
    LEGACY_SOURCE,
    RLP_ID,
    RLP_SOURCE,
)
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

    def setup(self, plane: EmbeddedControlPlane) -> None:
        """The flag registry before the fleet starts (Interlock's world only)."""
        if self.interlock:
            plane.register_flag("power_peg", KNIGHT_BIT, "Power Peg parent-order slicer "
                                "(unused since 2003)", "smars")  # fmt: skip

    def _gate(self, plane: EmbeddedControlPlane, source: Path, build: str) -> ProposalCheck:
        """The flag release gate as it stands now: the registry and the live members."""
        live = live_manifests(plane.members())
        return flag_preflight([source], plane.flag_registry(), build, INTERLOCK_MANIFESTS[build],
                              live_manifests=live)  # fmt: skip

    def _retire_power_peg(self, plane: EmbeddedControlPlane) -> None:
        try:
            plane.retire_flag("power_peg", "release-eng")
            self.notes.append("flag 'power_peg' retired")
        except FlagError as exc:
            self.notes.append(f"retiring 'power_peg' refused: {exc}")

    def deploy(self, fleet: ReplayFleet) -> None:
        plane = fleet.plane
        ops = Deployment(plane, who="release-eng", clock=self.clock)
        if self.interlock:
            try:
                plane.register_flag("rlp", KNIGHT_BIT, "Retail Liquidity Program routing", "smars")
            except FlagError as exc:
                self.notes.append(f"reusing Power Peg's flag for RLP refused: {exc}")
            plane.register_flag("rlp", RLP_ID, "Retail Liquidity Program routing", "smars")
            self._retire_power_peg(plane)
        gate = self._gate(plane, RLP_SOURCE, NEW) if self.interlock else None
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
        ops.propose(
            NEW,
            fleet.flag_digest(NEW),
            SEVEN,
            self._gate(plane, RLP_SOURCE, NEW),
            config_digest=fleet.config_digest,
        )
        release = ops.commit()
        self.notes.append(f"redeployed to the seven good servers at epoch {release.epoch}; "
                          f"{STALE} is fenced")  # fmt: skip
        self._retire_power_peg(plane)  # the straggler still reads it

    def fix(self, fleet: ReplayFleet) -> None:
        """The 'fix': roll the seven good servers back to the old build."""
        plane = fleet.plane
        ops = Deployment(plane, who="trading-ops", clock=self.clock)
        if plane.proposal() is not None:
            ops.abort("rolling back")
        gate = self._gate(plane, LEGACY_SOURCE, OLD) if self.interlock else None
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
