"""The root `interlock` app: it wires each command group's module and holds `version`.

Exit codes: 0 success, 1 a fault or invalid input, 2 usage.
"""

from __future__ import annotations

import typer

from interlock import __version__
from interlock.cli import config, demo, journal, preopen, serve
from interlock.cli.adv import adv_app
from interlock.cli.common import console
from interlock.cli.flags import flags_app
from interlock.cli.fleet import fleet_app
from interlock.cli.limits import limits_app
from interlock.cli.locates import locates_app
from interlock.cli.replay import replay_app

app = typer.Typer(
    help="Interlock: a market-access interlock between trading strategies and venues.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(config.config_app, name="config")
app.add_typer(journal.journal_app, name="journal")
app.add_typer(flags_app, name="flags")
app.add_typer(fleet_app, name="fleet")
app.add_typer(limits_app, name="limits")
app.add_typer(replay_app, name="replay")
app.add_typer(locates_app, name="locates")
app.add_typer(adv_app, name="adv")


@app.command()
def version() -> None:
    """Print Interlock's version."""
    console().print(f"interlock {__version__}")


app.command()(demo.demo)
app.command()(serve.serve)
app.command()(preopen.preopen)
