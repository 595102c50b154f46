"""`interlock fleet ...`: the running fleet, from a shell, through an admin listener.

Every command but `knight` calls a live member's admin port (cli/admin_client.py: `--admin`
and `--token`), which acts on the control plane the whole fleet shares: status and
members, a deploy transaction (propose, readiness, commit, abort, rollback), confirmed
halts and resumes. `knight` is a demo on an in-process fleet of its own (fleet_knight.py).
Exit codes: 0 done, 1 refused (the plane's reason printed), 2 usage or unreachable.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from interlock.cli import fleet_knight
from interlock.cli.admin_client import Admin, AdminToken, AdminUrl
from interlock.cli.common import console as _console
from interlock.domain.enums import HaltScope

fleet_app = typer.Typer(
    help="The running fleet through a member's admin listener (--admin, --token): status, "
    "members, deploys, halts. `knight` is a demo on an in-process fleet.",
    no_args_is_help=True,
)
Members = Annotated[
    list[str] | None,
    typer.Option("--member", help="An expected member (repeatable; default: every live one)."),
]
ScopeOpt = Annotated[HaltScope, typer.Option("--scope", help="What the halt covers.")]
TargetOpt = Annotated[str, typer.Option("--target", help="The account, symbol, ... halted.")]


def short(digest: str | None) -> str:
    """A digest for people: its first 12 characters."""
    return digest[:12] if digest else "(none)"


def _members_table(out: Console, members: list[dict[str, Any]]) -> None:
    table = Table(show_edge=False)
    for col in ("member", "gate", "build", "flags", "config", "lease left", "host/pid",
                "flag verdict"):  # fmt: skip
        table.add_column(col, no_wrap=col in ("member", "gate"))
    for m in members:
        ok = m["gate"] in ("routing", "attested")
        table.add_row(Text(m["instance_id"]), Text(m["gate"], style="green" if ok else "bold red"),
                      short(m["build_digest"]), short(m["flag_digest"]),
                      short(m["config_digest"]), f"{m['lease_left_ms']:,} ms",
                      Text(f"{m['host']}/{m['pid']}"),
                      Text(m["flag_refusal"] or "accepted"))  # fmt: skip
    out.print(table)


def _proposal(p: dict[str, Any]) -> str:
    return (f"build {short(p['build_digest'])}, flags {short(p['flag_digest'])} for "
            f"{len(p['members'])} member(s) ({', '.join(p['members'])}), proposed by "
            f"{p['who']} at epoch {p['base_epoch']}")  # fmt: skip


def _readiness(out: Console, deploy: dict[str, Any]) -> None:
    out.print(Text(f"pending deploy: {_proposal(deploy['proposal'])}"), soft_wrap=True)
    ready = deploy["readiness"]
    table = Table(show_edge=False)
    table.add_column("member", no_wrap=True)
    table.add_column("ready", no_wrap=True)
    table.add_column("attests")
    for r in ready:
        mark = Text("yes", style="green") if r["ready"] else Text("no", style="bold red")
        table.add_row(Text(r["instance_id"]), mark, Text(r["attests"] or "no lease"))
    out.print(table)
    out.print(f"{sum(r['ready'] for r in ready)}/{len(ready)} expected members attest it")


@fleet_app.command()
def status(admin: AdminUrl = "", token: AdminToken = "") -> None:
    """The release, the pending deploy, the halts in force and every live member."""
    out = _console()
    f = Admin(out, admin, token).get("/fleet")
    attested = sum(m["gate"] in ("routing", "attested") for m in f["members"])
    out.print(Text(f"release: build {short(f['build_digest'])}, flags "
                   f"{short(f['flag_digest'])}, epoch {f['epoch']}; {attested}/"
                   f"{len(f['members'])} live members attested; {f['this_instance']} (this "
                   f"listener): {f['this_gate']}", style="bold"), soft_wrap=True)  # fmt: skip
    _members_table(out, f["members"])
    p = f["proposal"]
    out.print(Text(f"pending deploy: {_proposal(p)}" if p else "no deploy pending"),
              soft_wrap=True)  # fmt: skip
    for h in f["halts"]:
        target = f" {h['target']}" if h["target"] else ""
        out.print(Text(f"halt in force: {h['scope']}{target} by {h['who']}: {h['reason']}",
                       style="bold red"), soft_wrap=True)  # fmt: skip


@fleet_app.command()
def members(admin: AdminUrl = "", token: AdminToken = "") -> None:
    """Every live member: attestation, lease, gate and the flag registry's verdict."""
    out = _console()
    _members_table(out, Admin(out, admin, token).get("/fleet/members"))


@fleet_app.command()
def propose(
    build: Annotated[str, typer.Option("--build", help="The build digest to deploy.")],
    flags: Annotated[str, typer.Option("--flags", help="Its flag-manifest digest.")] = "",
    config: Annotated[
        str | None,
        typer.Option(
            "--config-digest",
            help="The fleet config it releases (`interlock config check` prints it); "
            "default: the released one's.",
        ),
    ] = None,
    member: Members = None,
    lint: Annotated[
        list[Path] | None,
        typer.Option(
            "--lint",
            help="The build's source on the member's host: the flag release gate judges it "
            "against the plane's registry (repeatable).",
        ),
    ] = None,
    admin: AdminUrl = "",
    token: AdminToken = "",
) -> None:
    """Propose a build: the expected members then restart on it and attest."""
    out = _console()
    body = {"build_digest": build, "flag_digest": flags, "members": member or [],
            "config_digest": config, "source": [str(p.resolve()) for p in lint or ()]}  # fmt: skip
    _readiness(out, Admin(out, admin, token).post("/deploy/propose", body))


@fleet_app.command()
def readiness(admin: AdminUrl = "", token: AdminToken = "") -> None:
    """The pending deploy: does each expected member attest it yet?"""
    out = _console()
    _readiness(out, Admin(out, admin, token).get("/deploy/readiness"))


@fleet_app.command()
def commit(admin: AdminUrl = "", token: AdminToken = "") -> None:
    """Release the pending deploy: refused, naming each straggler, unless all attest."""
    out = _console()
    r = Admin(out, admin, token).post("/deploy/commit")
    out.print(Text(f"committed: build {short(r['build_digest'])}, flags "
                   f"{short(r['flag_digest'])} at epoch {r['epoch']} for "
                   f"{', '.join(r['members'])}", style="bold green"), soft_wrap=True)  # fmt: skip


@fleet_app.command()
def abort(
    reason: Annotated[str, typer.Option(help="Why (recorded).")] = "aborted by the operator",
    admin: AdminUrl = "",
    token: AdminToken = "",
) -> None:
    """Drop the pending deploy; the release stays."""
    out = _console()
    p = Admin(out, admin, token).post("/deploy/abort", {"reason": reason})
    out.print(Text(f"aborted: {_proposal(p)}"), soft_wrap=True)


@fleet_app.command()
def rollback(member: Members = None, admin: AdminUrl = "", token: AdminToken = "") -> None:
    """Propose the release committed before the current one; then restart the members on
    it and `commit`, as for any deploy."""
    out = _console()
    r = Admin(out, admin, token).post("/deploy/rollback", {"members": member or []})
    to = r["to"]
    out.print(Text(f"rollback to build {short(to['build_digest'])}, flags "
                   f"{short(to['flag_digest'])} (released at epoch {to['epoch']})",
                   style="bold"), soft_wrap=True)  # fmt: skip
    _readiness(out, r["deploy"])


@fleet_app.command()
def halt(
    scope: ScopeOpt = HaltScope.GLOBAL,
    target: TargetOpt = "",
    reason: Annotated[str, typer.Option(help="Why (recorded).")] = "operator halt",
    admin: AdminUrl = "",
    token: AdminToken = "",
) -> None:
    """Halt the fleet; print who confirmed and how fast: "8/8 halted in N ms"."""
    out = _console()
    body = {"scope": scope.value, "target": target, "reason": reason}
    r = Admin(out, admin, token).post("/halt", body)
    out.print(Text(r["summary"], style="bold green" if r["complete"] else "bold red"),
              soft_wrap=True)  # fmt: skip
    if not r["complete"]:
        raise typer.Exit(1)


@fleet_app.command()
def resume(
    scope: ScopeOpt = HaltScope.GLOBAL,
    target: TargetOpt = "",
    admin: AdminUrl = "",
    token: AdminToken = "",
) -> None:
    """Lift a halt."""
    out = _console()
    r = Admin(out, admin, token).post("/resume", {"scope": scope.value, "target": target})
    out.print("resumed" if r["lifted"] else "nothing to resume: no such halt in force")


fleet_app.command(name="knight")(fleet_knight.knight)
