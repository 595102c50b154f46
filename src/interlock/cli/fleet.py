"""`interlock fleet ...`: the fleet gate, deploy transactions and confirmed halts, from a shell.

The embedded control plane lives inside one process, so each command builds an in-process
demo fleet (gw-1..gw-N sharing one embedded plane), does its step on it and prints what an
operator would see. Nothing persists between commands. Across processes and machines the
fleet runs on etcd (a later issue), where these same commands will act on the live fleet.
The control plane, the gateways and the flag machinery are imported only when a command
runs. Exit codes: 0 as expected, 1 a refusal (with the reason), 2 usage.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.text import Text

from interlock.cli.common import console as _console
from interlock.cli.common import fail as _fail
from interlock.domain.enums import HaltScope
from interlock.errors import DeployError, FlagError

if TYPE_CHECKING:
    from interlock.control.deploy import Deployment, ProposalCheck
    from interlock.control.fleet_halt import HaltReport
    from interlock.control.plane import Proposal
    from interlock.flags import FlagManifest, FlagRegistry
    from interlock.sim.fleet import FleetStatus, InProcessFleet

ACROSS = "Across processes and machines the fleet runs on etcd (a later issue)."
fleet_app = typer.Typer(
    help="The fleet gate on an in-process demo fleet (embedded control plane; each command "
    f"builds a fresh fleet in this process). {ACROSS}",
    no_args_is_help=True,
)
deploy_app = typer.Typer(
    help="Deploy transactions: propose, every expected instance restarts and attests, commit "
    f"or abort. Demo fleet, in this process. {ACROSS}",
    no_args_is_help=True,
)
fleet_app.add_typer(deploy_app, name="deploy")

Instances = Annotated[int, typer.Option(min=1, max=64, help="Instances in the demo fleet.")]
NewBuild = Annotated[str, typer.Option("--build", help="The build digest to deploy.")]
NewFlags = Annotated[str, typer.Option("--flags", help="The flag-manifest digest to deploy.")]
Stale = Annotated[
    list[str] | None,
    typer.Option("--stale", help="An instance that fails to restart (repeatable)."),
]
Lint = Annotated[
    list[Path] | None,
    typer.Option("--lint", help="Run the flag linter on this source as the release gate."),
]
Registry = Annotated[
    Path, typer.Option("--registry", help="The flag registry the release gate lints against.")
]
ScopeOpt = Annotated[HaltScope, typer.Option("--scope", help="What the halt covers.")]
TargetOpt = Annotated[str, typer.Option("--target", help="The account, symbol, ... halted.")]


def render_status(console: Console, status: FleetStatus, title: str = "fleet") -> None:
    from rich.table import Table

    from interlock.control.attestation import short

    r = status.release
    console.print(
        Text(f"{title}: release build {short(r.build_digest)}, flags {short(r.flag_digest)}, "
             f"config {short(r.config_digest)}, epoch {r.epoch}; "
             f"{status.routing}/{len(status.rows)} routing", style="bold"),
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
        f"build {short(p.build_digest)}, flags {short(p.flag_digest)}, config "
        f"{short(p.config_digest)} for "
        f"{len(p.members)} member(s), proposed by {p.who} at epoch {p.base_epoch}"
    )


@dataclass(frozen=True, slots=True)
class _Build:
    """What a deploy proposes: build, flag digest and manifest, and the release gate (with
    the flag registry it judges against, which the demo fleet's plane then holds)."""

    digest: str
    flags: str
    manifest: FlagManifest | None = None
    gate: ProposalCheck | None = None
    registry: FlagRegistry | None = None


def _build(console: Console, build: str, flags: str, lint: list[Path] | None,
           registry: Path) -> _Build:  # fmt: skip
    """The build to propose; with `lint`, its manifest is made from that source and the flag
    release gate (linter, manifest check, digest) guards the proposal."""
    from interlock.control.flag_preflight import flag_preflight
    from interlock.flags import load_registry, manifest_from_source

    if not lint:
        return _Build(build, flags)
    try:
        flag_registry = load_registry(registry)
    except FlagError as exc:
        raise _fail(console, f"{exc.code}: {exc}") from None
    try:
        manifest: FlagManifest | None = manifest_from_source(lint, build, flag_registry)
    except FlagError:
        manifest = None  # the gate says why
    digest = flags or (manifest.digest() if manifest is not None else "")
    gate = flag_preflight(lint, flag_registry, build, registry_label=str(registry))
    return _Build(build, digest, manifest, gate, flag_registry)


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
        proposal = deploy.propose(build.digest, build.flags, fleet.ids, build.gate,
                                  config_digest=fleet.config_digest)  # fmt: skip
    except (DeployError, FlagError) as exc:
        raise _fail(console, f"{exc.code}: {exc}") from None
    console.print(f"proposed: {_proposal(proposal)}")
    for instance_id in fleet.ids:
        if instance_id not in (stale or ()):
            fleet.restart(instance_id, build.digest, build.flags, build.manifest)
    return fleet, deploy


@fleet_app.command()
def status(instances: Instances = 8) -> None:
    """Show each instance's attestation, lease and gate, and the release."""
    from interlock.sim.fleet import InProcessFleet

    console = _console()
    render_status(console, InProcessFleet(instances).status())


@deploy_app.command("propose")
def deploy_propose(
    instances: Instances = 8,
    build: NewBuild = "next-build",
    flags: NewFlags = "",
    stale: Stale = None,
    lint: Lint = None,
    registry: Registry = Path("interlock-flags.json"),
) -> None:
    """Propose a build; the instances restart on it (but --stale ones); show who is ready."""
    console = _console()
    fleet, deploy = _deploy_fleet(console, instances,
                                  _build(console, build, flags, lint, registry), stale)  # fmt: skip
    ready = deploy.readiness()
    console.print(f"{sum(r.ready for r in ready)}/{len(ready)} expected members attest it")
    render_status(console, fleet.status(), "after the restarts")


@deploy_app.command("commit")
def deploy_commit(
    instances: Instances = 8,
    build: NewBuild = "next-build",
    flags: NewFlags = "",
    stale: Stale = None,
    lint: Lint = None,
    registry: Registry = Path("interlock-flags.json"),
) -> None:
    """Propose, restart, then commit: refused, naming each straggler, unless all attest."""
    from interlock.control.attestation import short

    console = _console()
    fleet, deploy = _deploy_fleet(console, instances,
                                  _build(console, build, flags, lint, registry), stale)  # fmt: skip
    try:
        release = deploy.commit()
    except DeployError as exc:
        render_status(console, fleet.status(), "commit refused")
        raise _fail(console, f"{exc.code}: {exc}") from None
    console.print(f"committed: build {short(release.build_digest)} at epoch {release.epoch}")
    render_status(console, fleet.status(), "after the commit")


@deploy_app.command("abort")
def deploy_abort(
    instances: Instances = 8,
    build: NewBuild = "next-build",
    flags: NewFlags = "",
    stale: Stale = None,
) -> None:
    """Propose, restart, then abort: the release stays; restarted instances stay fenced."""
    console = _console()
    fleet, deploy = _deploy_fleet(console, instances, _Build(build, flags), stale)
    aborted = deploy.abort("aborted from the command line")
    console.print(f"aborted: {_proposal(aborted)}")
    render_status(console, fleet.status(), "after the abort")


def _print_halt(console: Console, report: HaltReport) -> None:
    style = "bold green" if report.complete else "bold red"
    console.print(Text(str(report), style=style))


@fleet_app.command()
def halt(
    instances: Instances = 8,
    scope: ScopeOpt = HaltScope.GLOBAL,
    target: TargetOpt = "",
    reason: Annotated[str, typer.Option(help="Why (recorded).")] = "operator halt",
) -> None:
    """Halt the demo fleet; print who confirmed and how fast: "8/8 halted in N ms"."""
    from interlock.sim.fleet import InProcessFleet

    console = _console()
    fleet = InProcessFleet(instances)
    report = fleet.halt(scope, target, reason, "cli")
    _print_halt(console, report)
    if not report.complete:
        raise typer.Exit(1)


@fleet_app.command()
def resume(
    instances: Instances = 8,
    scope: ScopeOpt = HaltScope.GLOBAL,
    target: TargetOpt = "",
) -> None:
    """Halt the demo fleet, then lift the halt; show the fleet routing again."""
    from interlock.sim.fleet import InProcessFleet

    console = _console()
    fleet = InProcessFleet(instances)
    _print_halt(console, fleet.halt(scope, target, "operator halt", "cli"))
    lifted = fleet.plane.remove_halt(scope, "" if scope is HaltScope.GLOBAL else target, "cli")
    console.print("resumed" if lifted else "nothing to resume")
    render_status(console, fleet.status(), "after resume")


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
    registry.retire("power_peg", {}, "release-eng")  # before any member joins
    registry.register("rlp", 2, "Retail Liquidity Program routing", "smars")
    return registry


@fleet_app.command()
def knight(
    instances: Annotated[int, typer.Option(min=2, max=64, help="Instances in the fleet.")] = 8,
    orders: Annotated[int, typer.Option(min=1, help="Orders sent to the stale instance.")] = 212,
) -> None:
    """Knight's deploy, 1 August 2012, with the fleet gate: one instance comes back on the
    stale binary, which reads the retired Power Peg flag and takes 'rlp' to be its id.

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
    deploy.propose(new.digest, new.flags, [i for i in fleet.ids if i != stale],
                   config_digest=fleet.config_digest)  # fmt: skip
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
