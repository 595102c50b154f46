"""What every command shares: a console that does not colour numbers, and a clean exit 1.

Exit codes across the CLI: 0 success, 1 a fault, a refusal or invalid input (with the
reason), 2 usage.
"""

from __future__ import annotations

import typer
from rich.console import Console
from rich.text import Text


def console() -> Console:
    return Console(highlight=False)


def fail(out: Console, message: str) -> typer.Exit:
    """Print `message` in bold red and return the exit (code 1) for the caller to raise."""
    out.print(Text(message, style="bold red"), soft_wrap=True)
    return typer.Exit(1)


def utc_minute(ns: int) -> str:
    """`2012-08-01 09:30`: a table needs the minute, the records keep the nanosecond."""
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ns / 1e9, UTC).strftime("%Y-%m-%d %H:%M")
