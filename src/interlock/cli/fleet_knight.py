"""`interlock fleet knight`: a DEMO, not the running fleet. Knight's deploy of 1 August
2012 replayed on an in-process demo fleet (gw-1..gw-N sharing one embedded plane, built
in this process and gone when it exits), with the fleet gate.

Every other `interlock fleet` command acts on the running plane through an admin listener
(cli/fleet.py); this one builds its own fleet so the story can be told on any machine.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.text import Text

from interlock.cli.common import console as _console
from interlock.cli.common import fail as _fail
from interlock.domain.enums import HaltScope
from interlock.errors import DeployError, FlagError

if TYPE_CHECKING:
    from interlock.control.deploy import Deployment
    from interlock.control.fleet_halt import HaltReport
    from interlock.control.plane import Proposal
    from interlock.flags import FlagManifest, FlagRegistry
    from interlock.sim.fleet import FleetStatus, InProcessFleet


def render_status(console: Console, status: FleetStatus, title: str = "fleet") -> None:
    from rich.table import Table

    from interlock.control.attestation import short

    r = status.release
    console.print(
        Text(f"{title}: release build {short(r.build_digest)}, flags {short(r.flag_digest)}, "
             f"epoch {r.epoch}; {status.routing}/{len(status.rows)} routing", style="bold"),
        soft_wrap=True,
    )  # fmt: skip
    table = Table(show_edge=False)
    table.add_column("instance", no_wrap=True)
    table.add_column("gate", no_wrap=True)
    for col in ("epoch", "build", "flags", "lease left", "host/pid"):
        table.add_column(col)
    for row in status.rows:
        lease = "lost" if row.lease_left_ms is None else f"{row.lease_left_ms:,} ms"
        style = "green" if row.state == "routing" else "bold red"
        table.add_row(row.instance_id, Text(row.state, style=style), str(row.epoch), row.build,
                      row.flags, lease, row.host_pid)  # fmt: skip
    console.print(table)
    p = status.proposal
    if p is not None:
        console.print(f"pending deploy: {_proposal(p)}")


def _proposal(p: Proposal) -> str:
    from interlock.control.attestation import short

    return (
        f"build {short(p.build_digest)}, flags {short(p.flag_digest)} for "
        f"{len(p.members)} member(s), proposed by {p.who} at epoch {p.base_epoch}"
    )


@dataclass(frozen=True, slots=True)
class _Build:
    """What the demo deploy proposes: build, flag digest and manifest, and the flag
    registry the demo fleet's plane holds."""

    digest: str
    flags: str
    manifest: FlagManifest | None = None
    registry: FlagRegistry | None = None


def _deploy_fleet(
    console: Console, instances: int, build: _Build, stale: list[str] | None
) -> tuple[InProcessFleet, Deployment]:
    """A demo fleet with a deploy proposed and every instance but `stale` restarted on it."""
    from interlock.control.deploy import Deployment
    from interlock.sim.fleet import InProcessFleet

    fleet = InProcessFleet(instances, flags=build.registry)
    unknown = sorted(set(stale or ()) - set(fleet.ids))
    if unknown:
        raise _fail(console, f"no such instance(s): {', '.join(unknown)}")
    deploy = Deployment(fleet.plane, who="cli")
    try:
        proposal = deploy.propose(build.digest, build.flags, fleet.ids)
    except (DeployError, FlagError) as exc:
        raise _fail(console, f"{exc.code}: {exc}") from None
    console.print(f"proposed: {_proposal(proposal)}")
    for instance_id in fleet.ids:
        if instance_id not in (stale or ()):
            fleet.restart(instance_id, build.digest, build.flags, build.manifest)
    return fleet, deploy


def _print_halt(console: Console, report: HaltReport) -> None:
    style = "bold green" if report.complete else "bold red"
    console.print(Text(str(report), style=style))


def knight_manifests() -> tuple[FlagManifest, FlagManifest]:
    """The new build's manifest, and the stale binary's: its router reads Power Peg's flag,
    and it takes 'rlp' to be that same id 1 (the reused flag), where the registry gave RLP a
    new identity, id 2."""
    from interlock.flags import FlagManifest

    new = FlagManifest("rlp-build", {"rlp": 2})
    return new, FlagManifest("smars-2012.07.26", {"power_peg": 1, "rlp": 1})


def knight_registry() -> FlagRegistry:
    """Power Peg (id 1) retired, a tombstone; RLP under its own name and id 2, off."""
    from interlock.flags import FlagRegistry

    registry = FlagRegistry()
    registry.register("power_peg", 1, "Power Peg parent-order slicer (unused since 2003)", "smars")
    registry.retire("power_peg", {}, "release-eng")  # no live member yet
    registry.register("rlp", 2, "Retail Liquidity Program routing", "smars")
    return registry


def knight(
    instances: Annotated[int, typer.Option(min=2, max=64, help="Instances in the fleet.")] = 8,
    orders: Annotated[int, typer.Option(min=1, help="Orders sent to the stale instance.")] = 212,
) -> None:
    """DEMO (an in-process fleet, not the running one): Knight's deploy, 1 August 2012, with
    the fleet gate: one instance comes back on the stale binary, which reads the retired
    Power Peg flag and takes 'rlp' to be its id.

    It is not attested; the commit is refused naming it; it routes nothing; the deploy goes
    ahead without it and the straggler stays fenced; switching 'rlp' on is refused while it
    is live, naming what it maps 'rlp' to; the fleet halts, confirmed by every instance.
    """
    console = _console()
    stale = f"gw-{instances}"
    new_manifest, stale_manifest = knight_manifests()
    new = _Build("rlp-build", new_manifest.digest(), new_manifest, registry=knight_registry())
    fleet, deploy = _deploy_fleet(console, instances, new, [stale])
    fleet.restart(stale, stale_manifest.build, manifest=stale_manifest)
    refusal = fleet[stale].gate.check(fleet.clock())
    console.print(Text(f"{stale} came back on the stale binary: {refusal}", style="bold"),
                  soft_wrap=True)  # fmt: skip
    try:
        deploy.commit()
        raise _fail(console, f"the commit went through with {stale} on the old build")
    except DeployError as exc:
        console.print(Text(f"{exc.code}: {exc}", style="bold"), soft_wrap=True)
    render_status(console, fleet.status(), "Knight's fleet after the refused commit")
    refused = _flood(fleet, stale, orders, "before")
    deploy.abort(f"{stale} kept the old build")
    deploy.propose(new.digest, new.flags, [i for i in fleet.ids if i != stale])
    release = deploy.commit()
    console.print(f"redeployed without {stale}: epoch {release.epoch}")
    try:
        fleet.plane.enable_flag("rlp", "cli")
        raise _fail(console, f"'rlp' was switched on with {stale} live on the stale binary")
    except FlagError as exc:
        console.print(Text(f"{exc.code}: {exc}", style="bold"), soft_wrap=True)
    refused |= _flood(fleet, stale, orders, "after")
    render_status(console, fleet.status(), "after the commit without the straggler")
    sent = fleet.sent(stale)
    console.print(f"{stale}: {2 * orders} orders sent, refused as {sorted(refused)}, "
                  f"{sent} reached the venue")  # fmt: skip
    report = fleet.halt(HaltScope.GLOBAL, "", "Knight drill", "cli")
    _print_halt(console, report)
    if sent or not report.complete:
        raise typer.Exit(1)


def _flood(fleet: InProcessFleet, instance_id: str, n: int, tag: str) -> set[str]:
    """Send `n` distinct orders to one instance; the codes it refused them with."""
    from decimal import Decimal

    from interlock.domain.commands import OrderRequest
    from interlock.domain.enums import Side
    from interlock.sim.harness import DESK_KEY

    gw = fleet[instance_id]
    codes = set()
    for i in range(n):
        request = OrderRequest(f"{tag}-{i}", "desk-7", "smars", "AAPL", Side.BUY, 100 + i,
                               limit_price=Decimal("100.00"))  # fmt: skip
        d = gw.submit(request, DESK_KEY)
        codes.add(d.code.value if d.code else "ACCEPTED")
    fleet.instances[instance_id].journal.flush()
    return codes
