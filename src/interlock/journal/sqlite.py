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

A failed write fails the journal closed: the error is kept, nothing after it is ever
marked durable, and `append`/`flush` raise JournalError until the journal is reopened.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from interlock.domain.events import Event
from interlock.errors import JournalError, RecoveryError
from interlock.journal.base import DurableCallback
from interlock.journal.codec import decode, encode

SCHEMA_VERSION = 1
_SCHEMA = f"""
BEGIN IMMEDIATE;
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT OR IGNORE INTO meta VALUES ('schema_version', '{SCHEMA_VERSION}');
CREATE TABLE IF NOT EXISTS events(
    seq INTEGER PRIMARY KEY, ts INTEGER NOT NULL, kind TEXT NOT NULL, body BLOB NOT NULL);
CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events
    BEGIN SELECT RAISE(ABORT, 'journal is append-only'); END;
CREATE TRIGGER IF NOT EXISTS events_no_delete BEFORE DELETE ON events
    BEGIN SELECT RAISE(ABORT, 'journal is append-only'); END;
COMMIT;
"""
_BUSY_TIMEOUT_MS = 100  # only a foreign writer can hold the lock, and that is a fault
_MAX_ROWS = 8192  # rows per INSERT statement, further capped by the variable limit
_LINGER_SLICE_S = 0.0001
_log = logging.getLogger(__name__)


class SqliteJournal:
    """`Journal` in one SQLite file, with one committing thread (or the caller's).

    Linger policy: only after waking from idle, the writer waits for more records while
    they keep arriving (the first drain found more than one, then each 100 µs slice
    brought some), while the batch is under `max_batch`, and never past `max_wait_s` in
    total. A lone caller never lingers and pays one fsync; a busy one never lingers
    either (what queued during the last fsync is already a batch); `max_wait_s=0` never
    lingers. `max_batch` is rounded down to a power of two (and the SQLite variable
    limit). `background=False` commits in the caller's thread inside `flush()`.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        background: bool = True,
        max_wait_s: float = 0.001,
        max_batch: int = 8192,
    ) -> None:
        if max_batch < 1 or max_wait_s < 0:
            raise ValueError("max_batch must be >= 1 and max_wait_s >= 0")
        self._path = os.path.abspath(path)
        self._max_wait_s = max_wait_s
        self._queue: deque[tuple[int, Event]] = deque()
        self._callbacks: tuple[DurableCallback, ...] = ()
        self._refusal: str | None = None  # set once: why append must now refuse
        self._failure: BaseException | None = None
        self._closing = False
        self._idle = False  # writer is (about to be) asleep: appenders must wake it
        self._wake = threading.Event()
        self._cond = threading.Condition()
        self._sync_lock = threading.RLock()  # background=False: one committer at a time
        self._lock_file = _lock(self._path)
        try:
            self._conn = _open_writer(self._path)
            row = self._conn.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()
            limit = self._conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // 4
        except BaseException:
            self._lock_file.close()
            raise
        self._max_batch = _floor_pow2(min(_MAX_ROWS, limit, max_batch))
        self._sql: dict[int, str] = {}
        self._last_seq = self._durable_seq = self._released_seq = int(row[0])
        self._thread: threading.Thread | None = None
        self._checkpointer: threading.Thread | None = None
        self._stop_checkpoints = threading.Event()
        if background:
            # Checkpoints copy the WAL into the database and fsync it: tens of ms. Run on the
            # writer they stall every ack behind them, so here a thread of their own does
            # them (PASSIVE: never blocks the writer) and the writer never does.
            self._conn.execute("PRAGMA wal_autocheckpoint = 0")
            self._thread = threading.Thread(target=self._run, name="journal-writer", daemon=True)
            self._thread.start()
            self._checkpointer = threading.Thread(
                target=self._checkpoint_loop, name="journal-checkpointer", daemon=True
            )
            self._checkpointer.start()

    @property
    def last_seq(self) -> int:
        return self._last_seq

    @property
    def durable_seq(self) -> int:
        """Newest seq known to be on disk (its `on_durable` callbacks may still be running)."""
        return self._durable_seq

    def append(self, event: Event) -> int:
        if self._refusal is not None:
            self._refuse()
        seq = self._last_seq + 1
        self._last_seq = seq
        self._queue.append((seq, event))
        if self._idle:
            self._wake.set()
        return seq

    def on_durable(self, callback: DurableCallback) -> None:
        """Run `callback(seq)` after each commit; it must not call `flush` (the writer would
        wait on itself). A callback that raises is logged and does not stop the journal."""
        self._callbacks = (*self._callbacks, callback)

    def flush(self, timeout: float | None = None) -> int:
        """Wait until all appended so far is durable and its callbacks ran.

        With `background=False` the commit runs here and `timeout` does not apply.
        """
        target = self._last_seq
        if self._thread is None:
            self._commit_queued()
        elif threading.current_thread() is self._thread:
            raise JournalError("flush() from an on_durable callback would wait on itself")
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while self._failure is None and self._released_seq < target:
                if self._thread is None or not self._thread.is_alive():
                    raise JournalError(f"journal writer stopped before seq {target} was durable")
                if self._idle:
                    self._wake.set()
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    raise JournalError(
                        f"journal flush timed out after {timeout}s: "
                        f"durable seq {self._durable_seq} < {target}"
                    )
                self._cond.wait(remaining)
        if self._failure is not None:
            self._refuse()
        return self._durable_seq

    def read(self, after_seq: int = 0) -> Iterator[tuple[int, Event]]:
        """Stream committed events from the file on a connection of this call's own."""
        try:
            conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise JournalError(f"cannot open journal {self._path} for reading: {exc}") from exc
        try:
            conn.execute("PRAGMA query_only = ON")
            cursor = conn.execute(
                "SELECT seq, kind, body FROM events WHERE seq > ? ORDER BY seq", (after_seq,)
            )
            while rows := cursor.fetchmany(1024):
                for seq, kind, body in rows:
                    try:
                        yield seq, decode(kind, body)
                    except RecoveryError as exc:
                        raise RecoveryError(f"journal record {seq}: {exc}") from exc
        except sqlite3.Error as exc:
            raise JournalError(f"cannot read journal {self._path}: {exc}") from exc
        finally:
            conn.close()

    def close(self) -> None:
        """Commit what is queued, stop the writer, release the file. Never raises for an
        earlier write failure: `flush` and `append` report that."""
        if self._closing:
            return
        self._refusal = self._refusal or "journal is closed"
        if self._thread is not None:
            self._closing = True
            self._wake.set()
            self._thread.join()
        else:
            self._commit_queued()
        self._closing = True
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

    def _commit_queued(self) -> None:
        """background=False: commit everything queued, in order, in this thread."""
        with self._sync_lock:
            while self._failure is None and self._queue:
                n = _floor_pow2(min(len(self._queue), self._max_batch))
                if not self._commit(self._drain(n)):
                    return

    def _refuse(self) -> None:
        raise JournalError(self._refusal or "journal failed") from self._failure

    def _run(self) -> None:
        try:
            while batch := self._next_batch():
                if not self._commit(batch):
                    return
        except BaseException as exc:  # the writer must never die silently
            self._fail(exc)
            raise

    def _next_batch(self) -> list[tuple[int, Event]]:
        """Sleep until records are queued, then drain and linger; [] once closing."""
        queue = self._queue
        woke = False
        while not queue:
            if self._closing:
                return []
            self._idle = True
            if not queue and not self._closing:  # re-check after publishing `_idle`
                self._wake.wait()
            self._idle = False
            self._wake.clear()
            woke = True
        batch = self._drain(self._max_batch)
        deadline = time.monotonic() + self._max_wait_s
        slice_s = min(_LINGER_SLICE_S, self._max_wait_s)
        arriving = woke and len(batch) > 1  # others came in while the writer woke up
        while arriving and slice_s > 0 and len(batch) < self._max_batch:
            if self._closing or time.monotonic() + slice_s > deadline:
                break
            before = len(batch)
            time.sleep(slice_s)
            batch += self._drain(self._max_batch - before)
            arriving = len(batch) > before
        keep = _floor_pow2(len(batch))
        if keep < len(batch):  # the rest leads the next batch
            self._queue.extendleft(reversed(batch[keep:]))
            del batch[keep:]
        return batch

    def _drain(self, limit: int) -> list[tuple[int, Event]]:
        """Pop up to `limit` queued records, oldest first."""
        popleft = self._queue.popleft
        return [popleft() for _ in range(min(len(self._queue), limit))]

    def _commit(self, batch: list[tuple[int, Event]]) -> bool:
        """Write `batch` (2**k rows) in one statement, so one transaction; then publish it
        as durable. False, and the journal failed, if it could not be written."""
        try:
            params: list[object] = []
            for seq, event in batch:
                kind, body = encode(event)
                params += (seq, event.ts, kind, body)
            self._conn.execute(self._insert_sql(len(batch)), params)
        except Exception as exc:
            self._fail(exc)
            return False
        seq = batch[-1][0]
        self._durable_seq = max(self._durable_seq, seq)  # on disk from here on
        for callback in self._callbacks:
            try:
                callback(seq)
            except Exception:
                _log.exception("on_durable callback failed for seq %d", seq)
        with self._cond:  # flush() returns once the callbacks (the release) have run
            self._released_seq = max(self._released_seq, seq)
            self._cond.notify_all()
        return True

    def _insert_sql(self, rows: int) -> str:
        sql = self._sql.get(rows)
        if sql is None:
            sql = self._sql[rows] = "INSERT INTO events VALUES " + ",".join(["(?,?,?,?)"] * rows)
        return sql

    def _fail(self, exc: BaseException) -> None:
        _log.error("journal %s failed, refusing further events: %r", self._path, exc)
        self._failure = exc
        self._refusal = f"journal failed, nothing more can be made durable: {exc!r}"
        with self._cond:
            self._cond.notify_all()


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
        has_meta = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'"
        ).fetchone()
        if has_meta:
            row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            if row is None or row[0] != str(SCHEMA_VERSION):
                found = None if row is None else row[0]
                raise JournalError(
                    f"journal {path} has schema version {found!r}; "
                    f"this build reads version {SCHEMA_VERSION} only"
                )
        conn.executescript(_SCHEMA)
    except BaseException as exc:
        conn.close()
        if isinstance(exc, sqlite3.Error):
            raise JournalError(f"cannot open journal {path}: {exc}") from exc
        raise
    return conn
