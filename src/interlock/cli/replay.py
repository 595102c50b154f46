"""`interlock replay ...`: the Knight Capital replay from a shell.

The replay (its market model, routers, report and matplotlib plots) is imported only when
a replay runs, never for `--help`.
Exit codes: 0 every protected run met its target (and a full-length baseline landed in
every band of KNIGHT.md), 1 otherwise, 2 usage.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from interlock.cli.common import console

DEFAULT_SEED = 2012
"""`interlock.replay.knight.DEFAULT_SEED`, repeated so `--help` need not import the replay
(a test keeps the two equal)."""

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
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from interlock.replay.knight import run_knight
    from interlock.replay.plots import PLOTS
    from interlock.replay.render_report import (
        market_rules_line,
        message_budget_line,
        readiness_line,
        reg_sho_line,
        tables,
    )
    from interlock.replay.verdict import verdict

    screen = console()
    if not screen.is_terminal:
        screen.width = max(screen.width, 130)  # the tables are wide: never squeeze them
    with Progress(TextColumn("{task.description:<46}"), BarColumn(), TimeElapsedColumn(),
                  console=screen, transient=True) as bar:  # fmt: skip
        task = bar.add_task("starting", total=1.0)

        def step(what: str, done: float) -> None:
            bar.update(task, description=what, completed=done)

        report = run_knight(seed, minutes, out, step)
    style = "bold green" if report.passed else "bold red"
    screen.print(Text(verdict(report), style=style), soft_wrap=True)
    for table in tables(report):
        screen.print(table)
    screen.print(readiness_line(report), soft_wrap=True)
    screen.print(reg_sho_line(report), soft_wrap=True)
    screen.print(message_budget_line(report), soft_wrap=True)
    screen.print(market_rules_line(report), soft_wrap=True)
    files = ", ".join(("report.html", "report.json", *PLOTS))
    # The files' names only: a path of this machine has no place in a report people share.
    screen.print(f"written to the --out directory: {files}; runtime {report.runtime_s:.1f} s")
    if not report.passed:
        screen.print(Text("some figures missed their band or target", style="bold red"))
        raise typer.Exit(1)
