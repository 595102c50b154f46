"""`interlock replay ...`: the Knight Capital replay from a shell.

Exit codes: 0 every protected run met its target (and a full-length baseline landed in
every band of KNIGHT.md), 1 otherwise, 2 usage.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from interlock.replay.knight import DEFAULT_SEED, run_knight
from interlock.replay.render_report import readiness_line, tables

replay_app = typer.Typer(help="Replay incidents against Interlock.", no_args_is_help=True)


@replay_app.command()
def knight(
    out: Annotated[Path, typer.Option(help="Write report.json, report.html, plots here.")] = Path(
        "knight-report"
    ),
    seed: Annotated[int, typer.Option(help="Seed of the scenario, market and venue.")] = (
        DEFAULT_SEED
    ),
    minutes: Annotated[
        int, typer.Option(min=1, max=45, help="Runaway length (45: the real day; less: a test).")
    ] = 45,
) -> None:
    """Knight Capital, 1 August 2012: the routers without Interlock, then behind it."""
    console = Console(highlight=False)
    if not console.is_terminal:
        console.width = max(console.width, 130)  # the tables are wide: never squeeze them
    with Progress(TextColumn("{task.description:<46}"), BarColumn(), TimeElapsedColumn(),
                  console=console, transient=True) as bar:  # fmt: skip
        task = bar.add_task("starting", total=1.0)

        def step(what: str, done: float) -> None:
            bar.update(task, description=what, completed=done)

        report = run_knight(seed, minutes, out, step)
    for table in tables(report):
        console.print(table)
    console.print(readiness_line(report), soft_wrap=True)
    console.print(f"report: {out / 'report.html'}, {out / 'report.json'}; "
                  f"runtime {report.runtime_s:.1f} s")  # fmt: skip
    failed = not report.targets_met or (minutes == 45 and not report.in_band)
    if failed:
        console.print(Text("some figures missed their band or target", style="bold red"))
        raise typer.Exit(1)
