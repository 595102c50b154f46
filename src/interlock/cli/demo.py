"""`interlock demo`: the scripted trading session through a real gateway.

The demo (and the gateway, journal and simulated venue it builds) is imported only when
the command runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from interlock.cli.common import console, fail

DEFAULT_SEED = 21
"""`interlock.demo.DEFAULT_SEED`, repeated so `--help` need not import the demo (a test
keeps the two equal)."""


def demo(
    journal: Annotated[
        Path | None,
        typer.Option(help="Keep the journal in this new SQLite file (default: a temp dir)."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the simulated venue.")] = DEFAULT_SEED,
) -> None:
    """Run a scripted trading session through a real gateway and print every decision."""
    from interlock.demo import run_demo
    from interlock.errors import InterlockError
    from interlock.render_text import printable_lines

    out = console()
    try:
        result = run_demo(out, journal, seed)
    except (InterlockError, FileExistsError) as exc:
        raise fail(out, printable_lines(f"demo failed: {exc}")) from None
    if result.journal_path is not None:
        out.print(f"journal kept: {result.journal_path} (see `interlock journal show`)")
    if result.surprises:
        raise fail(out, printable_lines(f"{len(result.surprises)} step(s) did not go as scripted"))
