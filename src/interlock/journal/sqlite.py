"""SQLite journal: WAL, `synchronous=FULL`, group commit on one writer thread.

`append` only numbers the event and pushes it on a deque (atomic in CPython; the gateway's
lock serializes appends). The writer drains the deque, encodes, and inserts the batch as
one statement in its own transaction (so a torn write can never leave half a batch):
its commit is the fsync. Only then does `durable_seq` move and the `on_durable` callbacks run;
`flush()` returns once they have.
Whatever arrives during one fsync rides the next, so batches grow with load and a lone
caller pays about one fsync.

A batch is one multi-row INSERT whose row count is a power of two (what is over goes
back to the head of the queue for the next commit), so ~14 cached statements cover every
batch. Not `executemany`: sqlite3 drops the GIL on every statement step, and with a busy
gateway thread each reacquire can wait a whole switch interval (5 ms); measured with a
CPU-bound appender, per-row `executemany` took 1.7 s per 8192 rows.

The order index (`order_index`: order id, seq) is written in the same transaction as the
events it points at, so it is complete whenever they are; `order_history` reads an order's
records through it, on a reading connection of its own. It is not part of the checksummed
record: a journal written by a build from before it is indexed when opened (`_backfill`).
Its rows go in as one JSON array through `json_each`, one cached statement per batch.

A failed write (disk full, I/O error) makes the journal unavailable and the writer retries
(`group_commit.py`, which this shares with the PostgreSQL journal): each retry opens the
file afresh (`_recover`) and reads its highest seq, so a commit that reached the WAL before
its error was reported is not written twice.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from interlock.domain.events import Event
from interlock.errors import JournalError, RecoveryError
from interlock.journal.chain import GENESIS, is_crc, link, verified
from interlock.journal.codec import KINDS, ORDER_EVENT_TYPES, decode, encode, order_id_of
from interlock.journal.group_commit import Batch, GroupCommitJournal
from interlock.journal.wal import check_wal

SCHEMA_VERSION = 2  # 2: every record carries its chained checksum (journal/chain.py)
_SCHEMA = f"""
BEGIN IMMEDIATE;
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT OR IGNORE INTO meta VALUES ('schema_version', '{SCHEMA_VERSION}');
CREATE TABLE IF NOT EXISTS events(
    seq INTEGER PRIMARY KEY, ts INTEGER NOT NULL, kind TEXT NOT NULL, body BLOB NOT NULL,
    crc INTEGER NOT NULL);
CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events
    BEGIN SELECT RAISE(ABORT, 'journal is append-only'); END;
CREATE TRIGGER IF NOT EXISTS events_no_delete BEFORE DELETE ON events
    BEGIN SELECT RAISE(ABORT, 'journal is append-only'); END;
CREATE TABLE IF NOT EXISTS order_index(
    order_id INTEGER NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (order_id, seq)
) WITHOUT ROWID;
COMMIT;
"""
_INDEX_SQL = (  # one statement for a batch's index rows, whatever their count (see module doc)
    "INSERT OR IGNORE INTO order_index SELECT value ->> 0, value ->> 1 FROM json_each(?)"
)
_HISTORY_SQL = (
    "SELECT e.seq, e.kind, e.body FROM order_index i JOIN events e ON e.seq = i.seq "
    "WHERE i.order_id = ? AND i.seq < ? ORDER BY i.seq"
)
_THROUGH_SQL = "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'order_index_through'"
_SET_THROUGH_SQL = "INSERT OR REPLACE INTO meta VALUES ('order_index_through', ?)"
_BACKFILL_ROWS = 50_000  # events decoded per step when indexing a journal an older build wrote
_BUSY_TIMEOUT_MS = 100  # only a foreign writer can hold the lock, and that is a fault
_MAX_ROWS = 8192  # rows per INSERT statement, further capped by the variable limit
_log = logging.getLogger(__name__)


class SqliteJournal(GroupCommitJournal):
    """`Journal` in one SQLite file, with one committing thread (or the caller's).

    Linger policy: `group_commit`'s. `max_batch` is rounded down to a power of two (and
    the SQLite variable limit). `background=False` commits in the caller's thread inside
    `flush()`.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        background: bool = True,
        max_wait_s: float = 0.001,
        max_batch: int = 8192,
    ) -> None:
        super().__init__(max_wait_s=max_wait_s, max_batch=max_batch)
        self._path = os.path.abspath(path)
        self._label = f"journal {self._path}"
        self._lock_file = _lock(self._path)
        try:
            check_wal(self._path + "-wal")  # before SQLite opens it: opening may reset it
            self._conn = _open_writer(self._path)
        except BaseException:
            self._lock_file.close()
            raise
        try:
            row = self._conn.execute(
                "SELECT seq, crc FROM events ORDER BY seq DESC LIMIT 1"
            ).fetchone()
            limit = self._conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // 5
            if row is not None and not is_crc(row[1]):
                raise RecoveryError(f"record seq {row[0]} has no valid checksum ({row[1]!r})")
        except (sqlite3.Error, RecoveryError) as exc:  # the file's pages are damaged
            self._conn.close()
            self._lock_file.close()
            raise RecoveryError(f"journal {self._path} is damaged: {exc}") from exc
        try:
            _backfill(self._conn, self._path)
        except BaseException:
            self._conn.close()
            self._lock_file.close()
            raise
        self._max_batch = _floor_pow2(min(_MAX_ROWS, limit, max_batch))
        self._reader: sqlite3.Connection | None = None  # order_history's, opened on first use
        self._reader_lock = threading.Lock()
        self._background = background
        self._sql: dict[int, str] = {}
        self._crc: int = GENESIS if row is None else row[1]  # the chain's head (writer's)
        self._start(0 if row is None else int(row[0]))
        self._checkpointer: threading.Thread | None = None
        self._stop_checkpoints = threading.Event()
        if background:
            # Checkpoints copy the WAL into the database and fsync it: tens of ms. Run on the
            # writer they stall every ack behind them, so here a thread of their own does
            # them (PASSIVE: never blocks the writer) and the writer never does.
            self._conn.execute("PRAGMA wal_autocheckpoint = 0")
            self._start_writer("journal-writer")
            self._checkpointer = threading.Thread(
                target=self._checkpoint_loop, name="journal-checkpointer", daemon=True
            )
            self._checkpointer.start()

    def read(self, after_seq: int = 0) -> Iterator[tuple[int, Event]]:
        """Stream committed events from the file on a connection of this call's own, each
        checked against the sequence and the checksum chain (RecoveryError, naming the
        file and the seq, at the first that breaks)."""
        try:
            conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise JournalError(f"cannot open journal {self._path} for reading: {exc}") from exc
        try:
            conn.execute("PRAGMA query_only = ON")
            cursor = conn.execute(
                "SELECT seq, ts, kind, body, crc FROM events WHERE seq >= ? ORDER BY seq",
                (after_seq,),
            )
            yield from verified(cursor, f"journal {self._path}", after_seq)
        except sqlite3.Error as exc:
            raise JournalError(f"cannot read journal {self._path}: {exc}") from exc
        finally:
            conn.close()

    def order_history(
        self, order_id: int, before_seq: int | None = None
    ) -> list[tuple[int, Event]]:
        """The committed records of one order, through the order index (module doc)."""
        bound = 2**63 - 1 if before_seq is None else before_seq
        with self._reader_lock:
            try:
                if self._reader is None:
                    self._reader = sqlite3.connect(
                        self._path, isolation_level=None, check_same_thread=False
                    )
                    self._reader.execute("PRAGMA query_only = ON")
                rows = self._reader.execute(_HISTORY_SQL, (order_id, bound)).fetchall()
            except sqlite3.Error as exc:
                raise JournalError(f"cannot read journal {self._path}: {exc}") from exc
        return [(seq, decode(kind, body)) for seq, kind, body in rows]

    def close(self) -> None:
        """Commit what is queued, stop the writer, release the file. Never raises for an
        earlier write failure: `flush` and `append` report that."""
        if self._closing:
            return
        with self._reader_lock:
            if self._reader is not None:
                self._reader.close()
                self._reader = None
        self._stop_writer()
        self._stop_checkpoints.set()
        if self._checkpointer is not None:
            self._checkpointer.join()
        with self._sync_lock:
            with contextlib.suppress(sqlite3.Error):
                self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self._conn.close()
        self._lock_file.close()

    def _checkpoint_loop(self, interval_s: float = 1.0) -> None:
        """Copy the WAL into the database now and then, off the writer's path."""
        try:
            conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        except sqlite3.Error:
            _log.exception("journal %s: checkpointer could not connect", self._path)
            return
        try:
            conn.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
            while not self._stop_checkpoints.wait(interval_s):
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
                except sqlite3.Error:
                    _log.warning("journal %s: checkpoint failed; will retry", self._path)
        finally:
            conn.close()

    def _recover(self) -> int:
        """Open the file afresh (the old connection may be broken) and read its last seq."""
        with contextlib.suppress(sqlite3.Error):
            self._conn.close()
        self._conn = _open_writer(self._path)
        try:
            if self._background:
                self._conn.execute("PRAGMA wal_autocheckpoint = 0")
            row = self._conn.execute(
                "SELECT seq, crc FROM events ORDER BY seq DESC LIMIT 1"
            ).fetchone()
        except sqlite3.Error as exc:
            raise JournalError(f"cannot read back journal {self._path}: {exc}") from exc
        if row is None:
            self._crc = GENESIS
            return 0
        if not is_crc(row[1]):
            raise RecoveryError(f"journal {self._path}: record seq {row[0]} has no valid checksum")
        self._crc = row[1]  # the chain's head as stored: a batch may have landed unacknowledged
        return int(row[0])

    def _trim(self, batch: Batch) -> int:
        return _floor_pow2(len(batch))  # a power of two rows: one of ~14 cached statements

    def _write(self, batch: Batch) -> None:
        """`batch` (2**k rows) in one statement and its order-index rows in another, in one
        transaction: its commit is the fsync. Each row's chained checksum is computed here,
        on the writer thread."""
        params: list[object] = []
        index: list[tuple[int, int]] = []
        crc = self._crc
        for seq, event in batch:
            kind, body = encode(event)
            crc = link(crc, seq, event.ts, kind, body)
            params += (seq, event.ts, kind, body, crc)
            order_id = order_id_of(event)
            if order_id is not None:
                index.append((order_id, seq))
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute(self._insert_sql(len(batch)), params)
            if index:
                conn.execute(_INDEX_SQL, (json.dumps(index),))
            conn.execute(_SET_THROUGH_SQL, (str(batch[-1][0]),))
            conn.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            raise
        self._crc = crc  # only once committed: a failed batch leaves the chain's head

    def _insert_sql(self, rows: int) -> str:
        sql = self._sql.get(rows)
        if sql is None:
            sql = self._sql[rows] = "INSERT INTO events VALUES " + ",".join(["(?,?,?,?,?)"] * rows)
        return sql


def _backfill(conn: sqlite3.Connection, path: str) -> None:
    """Index the records the index does not cover yet: a journal an older build wrote (or
    wrote to last). Every commit records in `meta` the newest seq it indexed; from there,
    in steps, in one transaction, so a crash leaves the index as it was."""
    row = conn.execute(_THROUGH_SQL).fetchone()
    start = 0 if row is None else int(row[0])
    last = conn.execute("SELECT max(seq) FROM events").fetchone()[0]
    if last is None or last <= start:
        return
    _log.warning("journal %s: indexing records %d..%d by order (written by an older build)",
                 path, start + 1, last)  # fmt: skip
    kinds = tuple(KINDS[t] for t in ORDER_EVENT_TYPES)
    marks = ",".join("?" * len(kinds))
    conn.execute("BEGIN IMMEDIATE")
    try:
        after = start
        while after < last:
            upto = min(last, after + _BACKFILL_ROWS)
            index = []
            for seq, kind, body in conn.execute(
                "SELECT seq, kind, body FROM events "
                f"WHERE seq > ? AND seq <= ? AND kind IN ({marks})",
                (after, upto, *kinds),
            ).fetchall():
                order_id = order_id_of(decode(kind, body))
                if order_id is not None:
                    index.append((order_id, seq))
            if index:
                conn.execute(_INDEX_SQL, (json.dumps(index),))
            after = upto
        conn.execute(_SET_THROUGH_SQL, (str(last),))
        conn.execute("COMMIT")
    except BaseException as exc:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")
        if isinstance(exc, sqlite3.Error):
            raise JournalError(f"cannot index journal {path} by order: {exc}") from exc
        raise


def page_damage(conn: sqlite3.Connection) -> str | None:
    """SQLite's own first complaint about the file's pages (`PRAGMA quick_check`), or None.

    The record checksums cannot see a record that is not there: a damaged b-tree page (its
    cell count one lower, say) drops the newest records without a word, and a writer
    would go on numbering from the seq before them. quick_check reads every page once, in
    C: a small part of what the fold that follows costs."""
    row = conn.execute("PRAGMA quick_check(1)").fetchone()
    report = None if row is None else str(row[0])
    return None if report == "ok" else f"SQLite's quick_check: {report}".replace("\n", " ")


def _floor_pow2(n: int) -> int:
    return 1 << (n.bit_length() - 1)


def _lock(path: str) -> TextIO:
    """Hold an exclusive lock beside the file: two writers would fork the sequence."""
    try:
        handle = open(path + ".lock", "a")  # noqa: SIM115 - held for the journal's lifetime
    except OSError as exc:
        raise JournalError(f"cannot open journal {path}: {exc}") from exc
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        handle.close()
        raise JournalError(f"journal {path} is in use by another writer") from exc
    return handle


def _open_writer(path: str) -> sqlite3.Connection:
    try:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    except sqlite3.Error as exc:
        raise JournalError(f"cannot open journal {path}: {exc}") from exc
    try:
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode != "wal":
            raise JournalError(f"journal {path} cannot use WAL mode (got {mode!r})")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
        damage = page_damage(conn)
        if damage is not None:
            raise RecoveryError(f"journal {path} is damaged: {damage}; refusing to open it")
        has_meta = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'"
        ).fetchone()
        if has_meta:
            row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            if row is None or row[0] != str(SCHEMA_VERSION):
                found = None if row is None else row[0]
                raise JournalError(
                    f"journal {path} has schema version {found!r}; "
                    f"this build reads version {SCHEMA_VERSION} only (older versions are "
                    "pre-release formats without record checksums: read it with the build "
                    "that wrote it, and start this one on a new file)"
                )
        conn.executescript(_SCHEMA)
    except BaseException as exc:
        conn.close()
        if isinstance(exc, sqlite3.Error):
            raise JournalError(f"cannot open journal {path}: {exc}") from exc
        raise
    return conn
