"""The `interlock` command: demo, serve, config check, journal show, version, replay.

A thin shell over the library: each command parses its arguments, calls one function and
renders the result with Rich. Exit codes: 0 success, 1 a fault or invalid input, 2 usage.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from interlock import __version__
from interlock.api.config import load_config
from interlock.cli_flags import flags_app
from interlock.cli_fleet import fleet_app
from interlock.demo import DEFAULT_SEED, run_demo
from interlock.errors import ConfigError, InterlockError
from interlock.gateway.config import GatewayConfig
from interlock.journal.codec import decode
from interlock.render_text import EventSummarizer, config_rows, printable, printable_lines
from interlock.replay.cli import replay_app

app = typer.Typer(
    help="Interlock: a market-access interlock between trading strategies and venues.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
config_app = typer.Typer(help="Validate configuration files.", no_args_is_help=True)
journal_app = typer.Typer(help="Inspect SQLite journals.", no_args_is_help=True)
app.add_typer(config_app, name="config")
app.add_typer(journal_app, name="journal")
app.add_typer(flags_app, name="flags")
app.add_typer(fleet_app, name="fleet")
app.add_typer(replay_app, name="replay")


def _console() -> Console:
    return Console(highlight=False)


def _fail(console: Console, message: str) -> typer.Exit:
    console.print(Text(printable_lines(message), style="bold red"), soft_wrap=True)
    return typer.Exit(1)


@app.command()
def version() -> None:
    """Print Interlock's version."""
    _console().print(f"interlock {__version__}")


@app.command()
def demo(
    journal: Annotated[
        Path | None,
        typer.Option(help="Keep the journal in this new SQLite file (default: a temp dir)."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the simulated venue.")] = DEFAULT_SEED,
) -> None:
    """Run a scripted trading session through a real gateway and print every decision."""
    console = _console()
    try:
        result = run_demo(console, journal, seed)
    except (InterlockError, FileExistsError) as exc:
        raise _fail(console, f"demo failed: {exc}") from None
    if result.journal_path is not None:
        console.print(f"journal kept: {result.journal_path} (see `interlock journal show`)")
    if result.surprises:
        raise _fail(console, f"{len(result.surprises)} step(s) did not go as scripted")


@app.command()
def serve(
    config: Annotated[
        Path | None,
        typer.Option("--config", help="A TOML config file (default: the packaged one)."),
    ] = None,
) -> None:
    """Run the gateway with its REST and admin listeners until SIGTERM or SIGINT."""
    from interlock.api.service import serve_until_signalled  # web stack only when serving

    console = _console()
    try:
        serve_until_signalled(load_config(config), lambda line: console.print(Text(line)))
    except (InterlockError, OSError) as exc:
        raise _fail(console, f"serve failed: {exc}") from None


@config_app.command("check")
def config_check(
    path: Annotated[
        Path | None, typer.Argument(help="A TOML config file (default: the packaged one).")
    ] = None,
) -> None:
    """Load and validate a config; print a summary, or every invalid key."""
    console = _console()
    try:
        cfg: GatewayConfig = load_config(path)
    except ConfigError as exc:
        raise _fail(console, str(exc)) from None
    table = Table(title=f"{path or 'packaged default.toml'}: valid", show_edge=False)
    table.add_column("setting", no_wrap=True)
    table.add_column("value")
    for name, value in config_rows(cfg):
        table.add_row(Text(printable(name)), Text(printable(value)))
    console.print(table)


@journal_app.command("show")
def journal_show(
    path: Annotated[Path, typer.Argument(help="A SQLite journal file.")],
    limit: Annotated[int, typer.Option(min=0, help="Show at most N records (0: all).")] = 200,
    after: Annotated[int, typer.Option(min=0, help="Start after this sequence number.")] = 0,
) -> None:
    """Print a journal's records: sequence, kind and a one-line summary."""
    console = _console()
    if not path.is_file():
        raise _fail(console, f"{path}: no such journal file")
    summarize = EventSummarizer(load_config())
    table = Table(show_edge=False, pad_edge=False)
    table.add_column("seq", justify="right", no_wrap=True)
    table.add_column("kind", no_wrap=True)
    table.add_column("summary")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise _fail(console, f"{path}: cannot open: {exc}") from None
    shown = total = 0
    try:
        total = conn.execute("SELECT COUNT(*) FROM events WHERE seq > ?", (after,)).fetchone()[0]
        rows = conn.execute(
            "SELECT seq, kind, body FROM events WHERE seq > ? ORDER BY seq", (after,)
        )
        for seq, kind, body in rows:
            line = summarize(decode(kind, body))  # summarize every record: it learns prices
            if not limit or shown < limit:
                table.add_row(str(seq), Text(printable(kind)), Text(line))  # line: escaped
                shown += 1
    except sqlite3.Error as exc:
        raise _fail(console, f"{path}: not a readable Interlock journal: {exc}") from None
    except InterlockError as exc:
        raise _fail(console, f"{path}: {exc}") from None
    finally:
        conn.close()
    console.print(table)
    console.print(f"{shown} of {total} record(s) shown")


if __name__ == "__main__":
    app()
