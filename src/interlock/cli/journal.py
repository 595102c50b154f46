"""`interlock journal show`: a SQLite journal's records, one summary line each, read-only."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Annotated

import typer

from interlock.cli.common import console, fail

journal_app = typer.Typer(help="Inspect SQLite journals.", no_args_is_help=True)


@journal_app.command("show")
def journal_show(
    path: Annotated[Path, typer.Argument(help="A SQLite journal file.")],
    limit: Annotated[int, typer.Option(min=0, help="Show at most N records (0: all).")] = 200,
    after: Annotated[int, typer.Option(min=0, help="Start after this sequence number.")] = 0,
) -> None:
    """Print a journal's records: sequence, kind and a one-line summary."""
    from rich.table import Table
    from rich.text import Text

    from interlock.api.config import load_config
    from interlock.errors import InterlockError
    from interlock.journal.codec import decode
    from interlock.render_text import EventSummarizer, printable, printable_lines

    out = console()
    if not path.is_file():
        raise fail(out, printable_lines(f"{path}: no such journal file"))
    summarize = EventSummarizer(load_config())
    table = Table(show_edge=False, pad_edge=False)
    table.add_column("seq", justify="right", no_wrap=True)
    table.add_column("kind", no_wrap=True)
    table.add_column("summary")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise fail(out, printable_lines(f"{path}: cannot open: {exc}")) from None
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
        why = f"{path}: not a readable Interlock journal: {exc}"
        raise fail(out, printable_lines(why)) from None
    except InterlockError as exc:
        raise fail(out, printable_lines(f"{path}: {exc}")) from None
    finally:
        conn.close()
    out.print(table)
    out.print(f"{shown} of {total} record(s) shown")
