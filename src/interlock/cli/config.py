"""`interlock config check`: load and validate a config file, or name every invalid key."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from interlock.cli.common import console, fail

config_app = typer.Typer(help="Validate configuration files.", no_args_is_help=True)


@config_app.command("check")
def config_check(
    path: Annotated[
        Path | None, typer.Argument(help="A TOML config file (default: the packaged one).")
    ] = None,
) -> None:
    """Load and validate a config; print a summary, or every invalid key."""
    from rich.table import Table
    from rich.text import Text

    from interlock.api.config import load_config
    from interlock.errors import ConfigError
    from interlock.render_text import config_rows, printable, printable_lines

    out = console()
    try:
        cfg = load_config(path)
    except ConfigError as exc:
        raise fail(out, printable_lines(str(exc))) from None
    table = Table(title=f"{path or 'packaged default.toml'}: valid", show_edge=False)
    table.add_column("setting", no_wrap=True)
    table.add_column("value")
    for name, value in config_rows(cfg):
        table.add_row(Text(printable(name)), Text(printable(value)))
    table.add_row("fleet config digest", cfg.fleet_digest())  # what a release names
    out.print(table)
