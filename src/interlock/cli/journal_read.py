"""Read a journal strictly read-only, for the audit commands: a SQLite file or one instance's
rows of the fleet's PostgreSQL table, behind one interface.

Not `SqliteJournal.read` nor `PostgresJournal.read`: opening either takes the writer's lock
(and SQLite's creates a missing file), and an auditor must be able to read a running
gateway's journal (or a copy) without touching it. A source's `read` yields what
`Journal.read()` yields and holds the records to what recovery holds them to (for SQLite
the WAL scanned first and SQLite's quick_check of the pages, then, for both, the sequence
and checksum chain: journal/wal.py, journal/chain.py), so an export is never of silently
damaged records; `rows` gives the stored columns unchecked and `damage` what is wrong
beneath the records, for the audit to report each break as a finding. Every failure is a
`JournalError` that names the file or the database and instance (and the record).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import psycopg

from interlock.domain.events import Event
from interlock.errors import JournalError, RecoveryError
from interlock.journal.chain import Row, verified
from interlock.journal.postgres import TABLE
from interlock.journal.sqlite import page_damage
from interlock.journal.verify import Finding, FindingKind
from interlock.journal.wal import check_wal, scan_wal

_FETCH = 1024


class RecordSource(Protocol):
    @property
    def instance(self) -> str:
        """The instance whose records these are ("" when the source does not say)."""
        ...

    def rows(self, after_seq: int = 0) -> Iterator[Row]:
        """The stored `(seq, ts, kind, body, crc)` of every record from `after_seq` on (from
        the first when 0), in sequence order, unchecked."""
        ...

    def damage(self) -> list[Finding]:
        """What is wrong beneath the records (a SQLite file's WAL and pages); [] if nothing."""
        ...

    def read(self, after_seq: int = 0) -> Iterator[tuple[int, Event]]:
        """Every record with sequence > `after_seq`, in sequence order, as `(seq, event)`,
        checked as recovery checks them (RecoveryError at the first break)."""
        ...


@dataclass(frozen=True)
class SqliteFile:
    """A SQLite journal file, opened `mode=ro`; `instance` is what the caller says it is."""

    path: Path
    instance: str = ""

    def read(self, after_seq: int = 0) -> Iterator[tuple[int, Event]]:
        path = self.path
        if not path.is_file():
            raise JournalError(f"{path}: no such journal file")
        check_wal(f"{path}-wal")
        damage = self._pages_damaged()
        if damage is not None:
            raise RecoveryError(f"journal {path} is damaged: {damage}")
        yield from verified(self.rows(after_seq), str(path), after_seq)

    def damage(self) -> list[Finding]:
        path = self.path
        if not path.is_file():
            return []
        found: list[Finding] = []
        wal = scan_wal(f"{path}-wal").damage
        if wal is not None:  # before SQLite opens the file: what it would drop unseen
            found.append(Finding(FindingKind.WAL_DAMAGE, 0, "wal", str(wal)))
        pages = self._pages_damaged()
        if pages is not None:  # e.g. a leaf page's cell count: records gone without a gap
            found.append(Finding(FindingKind.PAGE_DAMAGE, 0, "file", f"{path}: {pages}"))
        return found

    def _pages_damaged(self) -> str | None:
        """SQLite's first complaint about the file's pages (journal/sqlite.py `page_damage`)."""
        conn = self._connect()
        try:
            return page_damage(conn)
        except sqlite3.Error as exc:
            raise JournalError(f"{self.path}: not a readable Interlock journal: {exc}") from None
        finally:
            conn.close()

    def rows(self, after_seq: int = 0) -> Iterator[Row]:
        if not self.path.is_file():
            raise JournalError(f"{self.path}: no such journal file")
        conn = self._connect()
        try:
            rows = conn.execute(
                "SELECT seq, ts, kind, body, crc FROM events WHERE seq >= ? ORDER BY seq",
                (after_seq,),
            )
            while batch := rows.fetchmany(_FETCH):
                yield from batch
        except sqlite3.Error as exc:
            raise JournalError(f"{self.path}: not a readable Interlock journal: {exc}") from None
        finally:
            conn.close()

    def _connect(self) -> sqlite3.Connection:
        try:
            return sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
        except sqlite3.Error as exc:
            raise JournalError(f"{self.path}: cannot open: {exc}") from None


@dataclass(frozen=True)
class PostgresRows:
    """One instance's rows of the fleet's table, in a read-only transaction, streamed
    through a server-side cursor (a long journal never sits in memory).

    An instance with no rows at all is an error, not an empty journal: a mistyped
    `--instance` must never verify clean. The message lists instances that do have rows.
    """

    dsn: str
    instance: str
    connect_timeout_s: int = 5

    @property
    def where(self) -> str:
        return f"postgres journal of instance {self.instance!r}"

    def read(self, after_seq: int = 0) -> Iterator[tuple[int, Event]]:
        yield from verified(self.rows(after_seq), self.where, after_seq)

    def damage(self) -> list[Finding]:
        return []  # the server keeps its own pages; the chain covers the rows

    def rows(self, after_seq: int = 0) -> Iterator[Row]:
        where = self.where
        try:
            conn = psycopg.connect(self.dsn, connect_timeout=self.connect_timeout_s)
        except psycopg.Error as exc:
            raise JournalError(f"cannot open {where}: {' '.join(str(exc).split())}") from None
        try:
            conn.read_only = True
            if not self._has_rows(conn):
                raise JournalError(f"{where}: no records ({self._others(conn)})")
            with conn.cursor(name="interlock_audit_read") as cursor:
                cursor.itersize = _FETCH
                cursor.execute(
                    f"SELECT seq, ts, kind, payload, crc FROM {TABLE} "
                    "WHERE instance_id = %s AND seq >= %s ORDER BY seq",
                    (self.instance, after_seq),
                )
                while rows := cursor.fetchmany(_FETCH):
                    for seq, ts, kind, payload, crc in rows:
                        yield seq, ts, kind, bytes(payload), crc
        except psycopg.Error as exc:
            why = " ".join(str(exc).split())
            raise JournalError(f"{where}: not a readable Interlock journal: {why}") from None
        finally:
            conn.close()

    def _has_rows(self, conn: psycopg.Connection[Any]) -> bool:
        found = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (TABLE,)).fetchone()
        if not found or not found[0]:
            why = f"no table {TABLE}: not an Interlock fleet journal"
            raise JournalError(f"postgres journal of instance {self.instance!r}: {why}")
        row = conn.execute(
            f"SELECT 1 FROM {TABLE} WHERE instance_id = %s LIMIT 1", (self.instance,)
        ).fetchone()
        return row is not None

    def _others(self, conn: psycopg.Connection[Any]) -> str:
        rows = conn.execute(f"SELECT DISTINCT instance_id FROM {TABLE} LIMIT 21").fetchall()
        names = sorted(str(r[0]) for r in rows)
        if not names:
            return "the table is empty"
        more = ", ..." if len(names) > 20 else ""
        return "instances with records: " + ", ".join(repr(n) for n in names[:20]) + more


def open_source(path: Path | None, dsn: str | None, instance: str) -> RecordSource:
    """The source the command line names: a file, or `--dsn` with `--instance`."""
    if (path is None) == (dsn is None):
        raise JournalError("name a SQLite journal file, or --dsn with --instance: one of them")
    if dsn is not None:
        if not instance:
            raise JournalError("--dsn needs --instance: the fleet's table holds many instances")
        return PostgresRows(dsn, instance)
    assert path is not None
    return SqliteFile(path, instance)


def read_records(path: Path, after_seq: int = 0) -> Iterator[tuple[int, Event]]:
    """A SQLite journal file's records, checked (`SqliteFile(path).read`)."""
    return SqliteFile(path).read(after_seq)
