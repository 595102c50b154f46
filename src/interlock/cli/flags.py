"""`interlock flags ...`: the flag registry, the enable preflight and the linter, from a shell.

A thin shell over `interlock.flags`: each command loads the registry file, makes one change
(refused changes leave the file untouched), saves it atomically and prints the result.
`interlock.flags` (its linter, manifests and store) is imported only when a command runs.
Exit codes: 0 success, 1 a refusal or a lint finding (with the reason), 2 usage.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.text import Text

from interlock.cli.common import console as _console
from interlock.cli.common import fail as _fail
from interlock.errors import FlagError

if TYPE_CHECKING:
    from interlock.flags import Flag, FlagManifest, FlagRegistry

flags_app = typer.Typer(
    help="Feature flags: permanent identities, tombstones, enable preflight, release linter.",
    no_args_is_help=True,
)

DEFAULT_REGISTRY = Path("interlock-flags.json")
RegistryOption = Annotated[
    Path, typer.Option("--registry", help="The flag registry file (created on first register).")
]
WhoOption = Annotated[str, typer.Option("--who", help="Who makes this change (recorded).")]
NameArgument = Annotated[str, typer.Argument(help="The flag's name.")]


def _state(flag: Flag) -> str:
    if flag.retired:
        return f"retired {_minute(flag.retired_at or 0)} by {flag.retired_by}"
    return "on" if flag.enabled else "off"


def _minute(ns: int) -> str:
    """`2012-08-01 09:30`: a table needs the minute, the file keeps the nanosecond."""
    from interlock.flags.registry import format_ts

    return format_ts(ns)[:16].replace("T", " ")


@flags_app.command("list")
def list_flags(registry: RegistryOption = DEFAULT_REGISTRY) -> None:
    """Show every flag, tombstones included: id, name, meaning, owner, created, state."""
    from rich.table import Table

    from interlock.flags import load_registry

    console = _console()
    try:
        flags = load_registry(registry).flags()
    except FlagError as exc:
        raise _fail(console, str(exc)) from None
    table = Table(title=f"{registry}: {len(flags)} flag(s)", show_edge=False)
    table.add_column("id", justify="right", no_wrap=True)
    table.add_column("name", no_wrap=True)
    table.add_column("meaning")
    table.add_column("owner", no_wrap=True)
    table.add_column("created (UTC)", no_wrap=True)
    table.add_column("state")
    for flag in flags:
        style = "dim" if flag.retired else "bold green" if flag.enabled else ""
        table.add_row(
            str(flag.flag_id),
            Text(flag.name),
            Text(flag.meaning),
            Text(flag.owner),
            _minute(flag.created),
            Text(_state(flag)),
            style=style,
        )
    console.print(table)


@flags_app.command("register")
def register(
    name: NameArgument,
    flag_id: Annotated[int, typer.Option("--id", min=1, help="The flag's permanent id.")],
    meaning: Annotated[str, typer.Option(help="What the flag switches on, in one line.")],
    owner: Annotated[str, typer.Option(help="Who answers for the flag.")],
    registry: RegistryOption = DEFAULT_REGISTRY,
) -> None:
    """Create a flag's permanent identity. A used or retired name or id is refused."""
    _apply(registry, lambda r: r.register(name, flag_id, meaning, owner), "registered")


@flags_app.command("retire")
def retire(name: NameArgument, who: WhoOption, registry: RegistryOption = DEFAULT_REGISTRY) -> None:
    """Retire a (disabled) flag: it leaves a tombstone, and its name and id are never reused.

    A local file knows no live members; on a fleet's plane a retire is refused while any live
    member's build still reads the flag, naming them."""
    _apply(registry, lambda r: r.retire(name, {}, who), "retired")


@flags_app.command("enable")
def enable(
    name: NameArgument,
    who: WhoOption,
    manifest: Annotated[
        list[str] | None,
        typer.Option(
            "--manifest",
            help="A live member's manifest, as MEMBER=FILE or FILE (member: the file's stem). "
            "Repeat for every live member.",
        ),
    ] = None,
    registry: RegistryOption = DEFAULT_REGISTRY,
) -> None:
    """Switch a flag on, only if every live member's manifest declares its id."""
    console = _console()
    try:
        live = _manifests(manifest or [])
    except FlagError as exc:
        raise _fail(console, str(exc)) from None
    _apply(registry, lambda r: r.enable(name, live, who), f"enabled ({len(live)} member(s) agree)")


@flags_app.command("disable")
def disable(
    name: NameArgument, who: WhoOption, registry: RegistryOption = DEFAULT_REGISTRY
) -> None:
    """Switch a flag off (always allowed)."""
    _apply(registry, lambda r: r.disable(name, who), "disabled")


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


def _apply(path: Path, change: Callable[[FlagRegistry], Flag], done: str) -> None:
    """Load, change, save (only if something changed), and report; exit 1 on refusal."""
    from interlock.flags import load_registry, save_registry

    console = _console()
    try:
        registry = load_registry(path)
        before = len(registry.history)
        flag = change(registry)
        if len(registry.history) == before:
            console.print(Text(f"{flag.describe()}: unchanged, already so", style="yellow"))
            return
        save_registry(registry, path)
    except FlagError as exc:
        raise _fail(console, str(exc)) from None
    console.print(Text(f"{done}: {flag.describe()}", style="green"), soft_wrap=True)


def _existing(path: Path, action: str) -> FlagRegistry:
    """The registry at `path`; unlike a change, a check needs one that already exists."""
    from interlock.flags import load_registry

    if not path.is_file():
        raise FlagError(f"cannot {action}: no flag registry at {path}")
    return load_registry(path)


def _manifests(specs: list[str]) -> dict[str, FlagManifest]:
    from interlock.flags import load_manifest

    live: dict[str, FlagManifest] = {}
    for spec in specs:
        member, sep, file = spec.partition("=")
        path = Path(file if sep else spec)
        member = member if sep else path.stem
        if member in live:
            raise FlagError(f"member {member!r} is given two manifests")
        live[member] = load_manifest(path)
    return live
