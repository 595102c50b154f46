"""`interlock flags ...`: the running fleet's flag registry, and the local release tools.

`list`, `register`, `retire`, `enable` and `disable` act on the control plane's registry
through a live member's admin listener (`--admin`, `--token`: cli/admin_client.py), as the
token's principal. `enable` is judged by the plane against the manifest of every live
member; nobody passes manifests. `lint` and `manifest` are local source tools: they read a
registry file (`--registry`) and the build's source, and change nothing.
Exit codes: 0 success, 1 a refusal or a lint finding (with the reason), 2 usage or no
admin listener answered.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.text import Text

from interlock.cli.admin_client import Admin, AdminToken, AdminUrl
from interlock.cli.common import console as _console
from interlock.cli.common import fail as _fail
from interlock.cli.common import utc_minute
from interlock.errors import FlagError

if TYPE_CHECKING:
    from interlock.flags import FlagRegistry

flags_app = typer.Typer(
    help="Feature flags: the running fleet's registry (permanent identities, tombstones, "
    "enable judged on every live member's manifest), and the local release linter.",
    no_args_is_help=True,
)

DEFAULT_REGISTRY = Path("interlock-flags.json")
RegistryOption = Annotated[
    Path, typer.Option("--registry", help="A flag registry file, read by the local tools.")
]
NameArgument = Annotated[str, typer.Argument(help="The flag's name.")]


def _state(flag: dict[str, Any]) -> str:
    if flag["retired_at_ns"] is not None:
        return f"retired {utc_minute(flag['retired_at_ns'])} by {flag['retired_by']}"
    return "on" if flag["enabled"] else "off"


def _describe(flag: dict[str, Any]) -> str:
    retired = ", retired" if flag["retired_at_ns"] is not None else ""
    return f"{flag['name']!r} (id {flag['flag_id']}: {flag['meaning']}{retired})"


@flags_app.command("list")
def list_flags(admin: AdminUrl = "", token: AdminToken = "") -> None:
    """Show every flag of the plane's registry, tombstones included."""
    from rich.table import Table

    out = _console()
    flags = Admin(out, admin, token).get("/flags")
    table = Table(title=f"the fleet's registry: {len(flags)} flag(s)", show_edge=False)
    table.add_column("id", justify="right", no_wrap=True)
    table.add_column("name", no_wrap=True)
    table.add_column("meaning")
    table.add_column("owner", no_wrap=True)
    table.add_column("created (UTC)", no_wrap=True)
    table.add_column("state")
    for f in flags:
        retired = f["retired_at_ns"] is not None
        style = "dim" if retired else "bold green" if f["enabled"] else ""
        table.add_row(str(f["flag_id"]), Text(f["name"]), Text(f["meaning"]), Text(f["owner"]),
                      utc_minute(f["created_ns"]), Text(_state(f)), style=style)  # fmt: skip
    out.print(table)


def _change(admin: str, token: str, path: str, done: str, body: dict[str, object]) -> None:
    out = _console()
    r = Admin(out, admin, token).post(path, body)
    if not r["changed"]:
        out.print(Text(f"{_describe(r['flag'])}: unchanged, already so", style="yellow"),
                  soft_wrap=True)  # fmt: skip
        return
    out.print(Text(f"{done}: {_describe(r['flag'])}", style="green"), soft_wrap=True)


@flags_app.command("register")
def register(
    name: NameArgument,
    flag_id: Annotated[int, typer.Option("--id", min=1, help="The flag's permanent id.")],
    meaning: Annotated[str, typer.Option(help="What the flag switches on, in one line.")],
    owner: Annotated[str, typer.Option(help="Who answers for the flag.")],
    admin: AdminUrl = "",
    token: AdminToken = "",
) -> None:
    """Create a flag's permanent identity. A used or retired name or id is refused."""
    body = {"name": name, "flag_id": flag_id, "meaning": meaning, "owner": owner}
    _change(admin, token, "/flags", "registered", body)


@flags_app.command("retire")
def retire(name: NameArgument, admin: AdminUrl = "", token: AdminToken = "") -> None:
    """Retire a (disabled) flag: it leaves a tombstone, and its name and id are never reused.

    Refused while any live member's build still reads the flag, naming them."""
    _change(admin, token, f"/flags/{_segment(name)}/retire", "retired", {})


@flags_app.command("enable")
def enable(name: NameArgument, admin: AdminUrl = "", token: AdminToken = "") -> None:
    """Switch a flag on: the plane refuses unless every live member's manifest declares it."""
    out = _console()
    r = Admin(out, admin, token).post(f"/flags/{_segment(name)}/enable")
    live = len(r["live_members"])
    state = "enabled" if r["changed"] else "unchanged, already on"
    out.print(Text(f"{state}: {_describe(r['flag'])} ({live} live member(s) declare it)",
                   style="green"), soft_wrap=True)  # fmt: skip


@flags_app.command("disable")
def disable(name: NameArgument, admin: AdminUrl = "", token: AdminToken = "") -> None:
    """Switch a flag off (always allowed)."""
    _change(admin, token, f"/flags/{_segment(name)}/disable", "disabled", {})


def _segment(name: str) -> str:
    """`name` as one URL path segment (a '/' or '?' in it stays part of the name)."""
    from urllib.parse import quote

    return quote(name, safe="")


@flags_app.command("lint")
def lint_command(
    paths: Annotated[list[Path], typer.Argument(help="Python files or directories to check.")],
    registry: RegistryOption = DEFAULT_REGISTRY,
) -> None:
    """Check flag reads in source against the registry; exit 1 with one line per finding."""
    from interlock.flags import lint
    from interlock.flags.lint import python_files

    console = _console()
    try:
        findings = lint(paths, _existing(registry, "lint"), str(registry))
        files = len(python_files(paths))
    except FlagError as exc:
        raise _fail(console, str(exc)) from None
    for finding in findings:
        console.print(Text(str(finding)), soft_wrap=True)
    if findings:
        raise _fail(console, f"{len(findings)} finding(s) in {files} file(s): release refused")
    console.print(Text(f"no findings in {files} file(s)", style="green"))


@flags_app.command("manifest")
def manifest_command(
    paths: Annotated[list[Path], typer.Argument(help="The build's Python source.")],
    build: Annotated[str, typer.Option(help="The build's name or digest.")],
    out: Annotated[Path | None, typer.Option(help="Write here (default: print).")] = None,
    registry: RegistryOption = DEFAULT_REGISTRY,
) -> None:
    """Write a build's flag manifest: each flag its source reads, with the registry's id."""
    from interlock.flags import manifest_from_source

    console = _console()
    try:
        made = manifest_from_source(paths, build, _existing(registry, "make a manifest"))
        if out is not None:
            out.write_text(made.to_json(), encoding="utf-8")
    except FlagError as exc:
        raise _fail(console, str(exc)) from None
    except OSError as exc:
        raise _fail(console, f"cannot write {out}: {exc.strerror or exc}") from None
    if out is None:
        console.print(Text(made.to_json().rstrip()), soft_wrap=True)
        return
    console.print(Text(f"{out}: manifest of {build!r}, digest {made.digest()}", style="green"))


def _existing(path: Path, action: str) -> FlagRegistry:
    """The registry at `path`; unlike a change, a check needs one that already exists."""
    from interlock.flags import load_registry

    if not path.is_file():
        raise FlagError(f"cannot {action}: no flag registry at {path}")
    return load_registry(path)
