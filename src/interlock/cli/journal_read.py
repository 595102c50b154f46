"""Read a SQLite journal file strictly read-only, for the audit commands.

Not `SqliteJournal.read`: opening a `SqliteJournal` takes the writer's lock and creates a
missing file, and an auditor must be able to read a running gateway's journal (or a copy)
without touching it. It yields what `Journal.read()` yields, so the checks stay
backend-agnostic; every failure is a `JournalError` that names the file (and the record).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

from interlock.domain.events import Event
from interlock.errors import JournalError, RecoveryError
from interlock.journal.codec import decode


def read_records(path: Path, after_seq: int = 0) -> Iterator[tuple[int, Event]]:
    """Every record with sequence > `after_seq`, in sequence order, as `(seq, event)`."""
    if not path.is_file():
        raise JournalError(f"{path}: no such journal file")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise JournalError(f"{path}: cannot open: {exc}") from None
    try:
        rows = conn.execute(
            "SELECT seq, kind, body FROM events WHERE seq > ? ORDER BY seq", (after_seq,)
        )
        while batch := rows.fetchmany(1024):
            for seq, kind, body in batch:
                try:
                    yield int(seq), decode(str(kind), bytes(body))
                except (RecoveryError, TypeError, ValueError) as exc:
                    raise RecoveryError(f"{path}: journal record {seq}: {exc}") from None
    except sqlite3.Error as exc:
        raise JournalError(f"{path}: not a readable Interlock journal: {exc}") from None
    finally:
        conn.close()
