"""Read a SQLite journal file strictly read-only, for the audit commands.

Not `SqliteJournal.read`: opening a `SqliteJournal` takes the writer's lock and creates a
missing file, and an auditor must be able to read a running gateway's journal (or a copy)
without touching it. It yields what `Journal.read()` yields, so the checks stay
backend-agnostic; every failure is a `JournalError` that names the file (and the record).
`read_records` holds the file to what recovery holds it to (the WAL scanned first, SQLite's
quick_check of the pages, then the sequence and checksum chain: journal/wal.py,
journal/chain.py), so an export is never of silently damaged records; `read_rows` gives the
stored columns unchecked, for the audit to report each break as a finding.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

from interlock.domain.events import Event
from interlock.errors import JournalError, RecoveryError
from interlock.journal.chain import Row, verified
from interlock.journal.sqlite import page_damage
from interlock.journal.wal import check_wal


def read_records(path: Path, after_seq: int = 0) -> Iterator[tuple[int, Event]]:
    """Every record with sequence > `after_seq`, in sequence order, as `(seq, event)`;
    RecoveryError naming the file and the seq (or the WAL's byte offset) if damaged."""
    if not path.is_file():
        raise JournalError(f"{path}: no such journal file")
    check_wal(f"{path}-wal")
    damage = pages_damaged(path)
    if damage is not None:
        raise RecoveryError(f"journal {path} is damaged: {damage}")
    yield from verified(read_rows(path, after_seq), str(path), after_seq)


def pages_damaged(path: Path) -> str | None:
    """SQLite's first complaint about the file's pages (journal/sqlite.py `page_damage`)."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise JournalError(f"{path}: cannot open: {exc}") from None
    try:
        return page_damage(conn)
    except sqlite3.Error as exc:
        raise JournalError(f"{path}: not a readable Interlock journal: {exc}") from None
    finally:
        conn.close()


def read_rows(path: Path, after_seq: int = 0) -> Iterator[Row]:
    """The stored `(seq, ts, kind, body, crc)` of every record from `after_seq` on (from
    the first when 0), in sequence order, unchecked."""
    if not path.is_file():
        raise JournalError(f"{path}: no such journal file")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise JournalError(f"{path}: cannot open: {exc}") from None
    try:
        rows = conn.execute(
            "SELECT seq, ts, kind, body, crc FROM events WHERE seq >= ? ORDER BY seq",
            (after_seq,),
        )
        while batch := rows.fetchmany(1024):
            yield from batch
    except sqlite3.Error as exc:
        raise JournalError(f"{path}: not a readable Interlock journal: {exc}") from None
    finally:
        conn.close()
