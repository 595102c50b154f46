"""`interlock journal show|verify|export`: read a journal, never write it.

A journal is a SQLite file (the argument) or one instance's rows of the fleet's PostgreSQL
table (`--dsn ... --instance ...`), read through one interface (journal_read.py). `show`
prints one summary line per record; `verify` audits the records (journal/verify.py: exit 0
clean, 1 with findings, 2 for a journal it cannot read); `export` writes one row per record
as CSV, JSON lines or Parquet for an auditor. Whatever reaches a terminal has its control
characters escaped; a file gets the records as journaled.
"""

from __future__ import annotations

from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.text import Text

from interlock.cli.common import console, fail

if TYPE_CHECKING:
    from interlock.cli.journal_read import RecordSource
    from interlock.domain.events import Event

journal_app = typer.Typer(
    help="Inspect, verify and export journals (SQLite files, or PostgreSQL with --dsn).",
    no_args_is_help=True,
)

JournalPath = Annotated[
    Path | None, typer.Argument(help="A SQLite journal file (or give --dsn and --instance).")
]
Dsn = Annotated[
    str | None,
    typer.Option(
        help="The fleet's PostgreSQL journal: a libpq DSN (a password is better in PGPASSWORD "
        "or ~/.pgpass than here); needs --instance."
    ),
]


def _source(out: Console, path: Path | None, dsn: str | None, instance: str) -> RecordSource:
    from interlock.cli.journal_read import open_source
    from interlock.errors import JournalError

    try:
        return open_source(path, dsn, instance)
    except JournalError as exc:
        raise _unreadable(out, f"{exc}") from None


@journal_app.command("show")
def journal_show(
    path: JournalPath = None,
    limit: Annotated[int, typer.Option(min=0, help="Show at most N records (0: all).")] = 200,
    after: Annotated[int, typer.Option(min=0, help="Start after this sequence number.")] = 0,
    dsn: Dsn = None,
    instance: Annotated[str, typer.Option(help="With --dsn: the instance to read.")] = "",
) -> None:
    """Print a journal's records: sequence, kind and a one-line summary."""
    from rich.table import Table

    from interlock.api.config import load_config
    from interlock.errors import InterlockError
    from interlock.journal.codec import KINDS
    from interlock.render_text import EventSummarizer, printable, printable_lines

    out = console()
    if path is not None and not path.is_file():
        raise fail(out, printable_lines(f"{path}: no such journal file"))
    source = _source(out, path, dsn, instance)
    summarize = EventSummarizer(load_config())
    table = Table(show_edge=False, pad_edge=False)
    table.add_column("seq", justify="right", no_wrap=True)
    table.add_column("kind", no_wrap=True)
    table.add_column("summary")
    shown = total = 0
    try:
        for seq, event in source.read(after):
            line = summarize(event)  # summarize every record: it learns prices
            total += 1
            if not limit or shown < limit:
                kind = KINDS[type(event)]
                table.add_row(str(seq), Text(printable(kind)), Text(line))  # line: escaped
                shown += 1
    except InterlockError as exc:
        raise fail(out, printable_lines(f"{exc}")) from None
    out.print(table)
    out.print(f"{shown} of {total} record(s) shown")


def _unreadable(out: Console, why: str) -> typer.Exit:
    from interlock.render_text import printable_lines

    out.print(Text(printable_lines(why), style="bold red"), soft_wrap=True)
    return typer.Exit(2)


@journal_app.command("verify")
def journal_verify(
    path: JournalPath = None,
    dsn: Dsn = None,
    instance: Annotated[str, typer.Option(help="With --dsn: the instance to audit.")] = "",
) -> None:
    """Audit a journal: WAL and page damage, checksum breaks, sequence gaps and repeats, accepts
    without a request or limits, fills, cancels and venue rejects of orders never accepted,
    overfills, repeated exec ids.

    Exit 0 clean, 1 with the findings listed, 2 when the journal cannot be read.
    """
    from interlock.errors import JournalError
    from interlock.journal.verify import Finding, checked, verify
    from interlock.render_text import printable

    out = console()
    source = _source(out, path, dsn, instance)
    count = 0
    findings: list[Finding] = []

    def counted() -> Iterator[tuple[int, Event]]:
        nonlocal count
        for record in checked(source.rows(), findings):
            count += 1
            yield record

    try:
        findings.extend(source.damage())  # beneath the records: a SQLite file's WAL, pages
        audit = verify(counted())
    except OSError as exc:
        raise _unreadable(out, f"{path}: {exc}") from None
    except JournalError as exc:
        why = f"{exc}" if path is None or str(path) in f"{exc}" else f"{path}: {exc}"
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
    parquet = "parquet"


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
    path: JournalPath = None,
    since: Annotated[
        str, typer.Option(help="First record: a sequence number or an ISO time (UTC if no zone).")
    ] = "0",
    fmt: Annotated[
        ExportFormat, typer.Option("--format", help="csv, jsonl, or parquet (needs --out).")
    ] = ExportFormat.csv,
    out_file: Annotated[
        Path | None, typer.Option("--out", help="Write to this new file (refused if it exists).")
    ] = None,
    instance: Annotated[
        str,
        typer.Option(
            help="With --dsn: the instance to export; for a SQLite file (one instance's "
            "journal): the instance column."
        ),
    ] = "",
    dsn: Dsn = None,
) -> None:
    """One row per record: seq, ts (ISO UTC; in Parquet a UTC ns timestamp), kind, instance,
    fields (JSON)."""
    import os

    from interlock.cli.journal_export import rows, write_parquet, write_rows
    from interlock.errors import JournalError
    from interlock.render_text import printable, printable_lines

    out = console()
    first_seq, first_ts = _since(since)
    source = _source(out, path, dsn, instance)
    records = ((seq, ev) for seq, ev in source.read(max(first_seq - 1, 0)) if ev.ts >= first_ts)
    if out_file is None and fmt is ExportFormat.parquet:
        raise fail(out, "--format parquet writes a file: give --out PATH")
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
        if fmt is ExportFormat.parquet:
            if partial.exists():
                raise OSError(f"{partial}: exists (another export running?)")
            count = write_parquet(str(partial), records, instance)
        else:
            with partial.open("x", encoding="utf-8", newline="") as f:
                count = write_rows(f, fmt.value, rows(records, instance), None)
        os.replace(partial, out_file)
    except (JournalError, OSError) as exc:
        partial.unlink(missing_ok=True)
        raise fail(out, printable_lines(f"{exc}")) from None
    out.print(Text(printable(f"{count} record(s) written to {out_file}")))
