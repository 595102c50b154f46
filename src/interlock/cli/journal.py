"""`interlock journal show|verify|export`: read a SQLite journal, never write it.

`show` prints one summary line per record; `verify` audits the records (journal/verify.py:
exit 0 clean, 1 with findings, 2 for a file it cannot read); `export` writes one row per
record as CSV or JSON lines for an auditor. Whatever reaches a terminal has its control
characters escaped; a file gets the records as journaled.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.text import Text

from interlock.cli.common import console, fail

if TYPE_CHECKING:
    from interlock.domain.events import Event

journal_app = typer.Typer(help="Inspect, verify and export SQLite journals.", no_args_is_help=True)


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


def _unreadable(out: Console, why: str) -> typer.Exit:
    from interlock.render_text import printable_lines

    out.print(Text(printable_lines(why), style="bold red"), soft_wrap=True)
    return typer.Exit(2)


@journal_app.command("verify")
def journal_verify(
    path: Annotated[Path, typer.Argument(help="A SQLite journal file.")],
) -> None:
    """Audit a journal: WAL and page damage, checksum breaks, sequence gaps and repeats, accepts
    without a request or limits, fills, cancels and venue rejects of orders never accepted,
    overfills, repeated exec ids.

    Exit 0 clean, 1 with the findings listed, 2 when the file cannot be read.
    """
    from interlock.cli.journal_read import pages_damaged, read_rows
    from interlock.errors import JournalError
    from interlock.journal.verify import Finding, FindingKind, checked, verify
    from interlock.journal.wal import scan_wal
    from interlock.render_text import printable

    out = console()
    count = 0
    findings: list[Finding] = []

    def counted() -> Iterator[tuple[int, Event]]:
        nonlocal count
        for record in checked(read_rows(path), findings):
            count += 1
            yield record

    try:
        damage = None if not path.is_file() else scan_wal(f"{path}-wal").damage
        if damage is not None:  # before SQLite opens the file: what it would drop unseen
            findings.append(Finding(FindingKind.WAL_DAMAGE, 0, "wal", str(damage)))
        pages = pages_damaged(path) if path.is_file() else None
        if pages is not None:  # e.g. a leaf page's cell count: records gone without a gap
            findings.append(Finding(FindingKind.PAGE_DAMAGE, 0, "file", f"{path}: {pages}"))
        audit = verify(counted())
    except OSError as exc:
        raise _unreadable(out, f"{path}: {exc}") from None
    except JournalError as exc:
        why = f"{exc}" if str(path) in f"{exc}" else f"{path}: {exc}"
        raise _unreadable(out, why) from None
    findings = sorted(findings + audit, key=lambda f: f.seq)  # stable: journal order kept
    for finding in findings:
        out.print(Text(printable(str(finding))), soft_wrap=True)
    if findings:
        out.print(f"{len(findings)} finding(s) in {count} record(s)")
        raise typer.Exit(1)
    out.print(f"{count} record(s) verified: no findings")


class ExportFormat(StrEnum):
    csv = "csv"
    jsonl = "jsonl"


def _since(value: str) -> tuple[int, int]:
    """`--since` as (first seq, first ts in ns): a sequence number or an ISO 8601 time."""
    from datetime import UTC, datetime

    if value.isdigit():
        return int(value), 0
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is neither a sequence number nor an ISO 8601 time"
        ) from None
    when = when if when.tzinfo else when.replace(tzinfo=UTC)  # no zone given: UTC
    return 0, int(when.timestamp()) * 1_000_000_000 + when.microsecond * 1_000


@journal_app.command("export")
def journal_export(
    path: Annotated[Path, typer.Argument(help="A SQLite journal file.")],
    since: Annotated[
        str, typer.Option(help="First record: a sequence number or an ISO time (UTC if no zone).")
    ] = "0",
    fmt: Annotated[ExportFormat, typer.Option("--format", help="csv or jsonl.")] = ExportFormat.csv,
    out_file: Annotated[
        Path | None, typer.Option("--out", help="Write to this new file (refused if it exists).")
    ] = None,
    instance: Annotated[
        str, typer.Option(help="The instance column (a SQLite journal is one instance's).")
    ] = "",
) -> None:
    """One row per record: seq, ts (ISO UTC), kind, instance, fields (JSON)."""
    import os

    from interlock.cli.journal_export import rows, write_rows
    from interlock.cli.journal_read import read_records
    from interlock.errors import JournalError
    from interlock.render_text import printable, printable_lines

    out = console()
    first_seq, first_ts = _since(since)
    records = (
        (seq, ev) for seq, ev in read_records(path, max(first_seq - 1, 0)) if ev.ts >= first_ts
    )
    if out_file is None:
        try:
            write_rows(out.file, fmt.value, rows(records, instance),
                       printable if out.is_terminal else None)  # fmt: skip
        except JournalError as exc:
            raise fail(out, printable_lines(f"{exc}")) from None
        return
    if out_file.exists():
        raise fail(out, printable_lines(f"{out_file}: exists; export writes a new file"))
    partial = out_file.with_name(out_file.name + ".partial")
    try:
        with partial.open("x", encoding="utf-8", newline="") as f:
            count = write_rows(f, fmt.value, rows(records, instance), None)
        os.replace(partial, out_file)
    except (JournalError, OSError) as exc:
        partial.unlink(missing_ok=True)
        raise fail(out, printable_lines(f"{exc}")) from None
    out.print(Text(printable(f"{count} record(s) written to {out_file}")))
