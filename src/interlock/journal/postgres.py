"""PostgreSQL journal: the fleet's shared, append-only record, group-committed like SQLite.

Several instances journal into one database: every row carries its `instance_id` and that
instance's own sequence (primary key `(instance_id, seq)`), and each journal reads only its
own rows. `append` numbers the event and pushes it on a deque (the gateway's lock
serializes appends); one writer thread drains the deque, encodes, and COPYs the batch in one
transaction. Its COMMIT (with the server's default `synchronous_commit = on`) is the
durability point: only then does `durable_seq` move and the `on_durable` callbacks run, and
`flush()` returns once they have. What arrives during one commit rides the next.

One writer per instance: the writer connection holds a session advisory lock on the
instance id, so a second process journaling as the same instance is refused (it would fork
the sequence). A database error (server gone, connection killed, disk full) fails the
journal closed exactly as SQLite's do: the error is kept, nothing after it is marked
durable, and `append`/`flush` raise JournalError until the journal is reopened.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Iterator
from typing import Any

import psycopg

from interlock.domain.events import Event
from interlock.errors import JournalError, RecoveryError
from interlock.journal.base import DurableCallback
from interlock.journal.codec import decode, encode

TABLE = "interlock_journal"
_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    instance_id text   NOT NULL,
    seq         bigint NOT NULL CHECK (seq > 0),
    kind        text   NOT NULL,
    payload     bytea  NOT NULL,
    ts          bigint NOT NULL,
    PRIMARY KEY (instance_id, seq)
);
CREATE OR REPLACE FUNCTION {TABLE}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'journal is append-only'; END $$;
CREATE OR REPLACE TRIGGER {TABLE}_no_change BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION {TABLE}_append_only();
CREATE OR REPLACE TRIGGER {TABLE}_no_truncate BEFORE TRUNCATE ON {TABLE}
    FOR EACH STATEMENT EXECUTE FUNCTION {TABLE}_append_only();
"""
_LOCK_CLASS = 0x1A7E  # first key of every advisory lock this module takes
_LINGER_SLICE_S = 0.0001
_log = logging.getLogger(__name__)


class PostgresJournal:
    """`Journal` in one PostgreSQL table shared by a fleet, with one committing thread.

    Linger policy as SqliteJournal's: only after waking from idle with more than one record
    queued, wait in 100 µs slices while records keep arriving, up to `max_batch` rows and
    `max_wait_s` in all. `connect_timeout_s` bounds every connection attempt.
    """

    def __init__(
        self,
        dsn: str,
        instance_id: str,
        *,
        max_wait_s: float = 0.001,
        max_batch: int = 8192,
        connect_timeout_s: float = 5.0,
    ) -> None:
        if max_batch < 1 or max_wait_s < 0 or connect_timeout_s <= 0:
            raise ValueError("max_batch must be >= 1, max_wait_s >= 0, connect_timeout_s > 0")
        if not instance_id:
            raise ValueError("instance_id must not be empty")
        self._dsn = dsn
        self._instance = instance_id
        self._label = f"postgres journal of instance {instance_id!r}"
        self._timeout = connect_timeout_s
        self._max_wait_s = max_wait_s
        self._max_batch = max_batch
        self._queue: deque[tuple[int, Event]] = deque()
        self._callbacks: tuple[DurableCallback, ...] = ()
        self._refusal: str | None = None  # set once: why append must now refuse
        self._failure: BaseException | None = None
        self._closing = False
        self._idle = False  # writer is (about to be) asleep: appenders must wake it
        self._wake = threading.Event()
        self._cond = threading.Condition()
        self._conn = self._open_writer()
        self._last_seq = self._durable_seq = self._released_seq = self._max_seq()
        self._thread = threading.Thread(target=self._run, name="pg-journal-writer", daemon=True)
        self._thread.start()

    @property
    def instance_id(self) -> str:
        return self._instance

    @property
    def last_seq(self) -> int:
        return self._last_seq

    @property
    def durable_seq(self) -> int:
        """Newest seq known committed (its `on_durable` callbacks may still be running)."""
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
        """Run `callback(seq)` after each commit; it must not call `flush`. A callback that
        raises is logged and does not stop the journal."""
        self._callbacks = (*self._callbacks, callback)

    def flush(self, timeout: float | None = None) -> int:
        """Wait until all appended so far is committed and its callbacks ran."""
        target = self._last_seq
        if threading.current_thread() is self._thread:
            raise JournalError("flush() from an on_durable callback would wait on itself")
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while self._failure is None and self._released_seq < target:
                if not self._thread.is_alive():
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
        """Stream this instance's committed events, in order, on a connection of its own."""
        conn = self._connect("reading")
        try:
            with conn.cursor(name="interlock_journal_read") as cursor:
                cursor.execute(
                    f"SELECT seq, kind, payload FROM {TABLE} "
                    "WHERE instance_id = %s AND seq > %s ORDER BY seq",
                    (self._instance, after_seq),
                )
                while rows := cursor.fetchmany(1024):
                    for seq, kind, payload in rows:
                        try:
                            yield seq, decode(kind, bytes(payload))
                        except RecoveryError as exc:
                            raise RecoveryError(f"journal record {seq}: {exc}") from exc
        except psycopg.Error as exc:
            raise JournalError(f"cannot read {self._label}: {exc}") from exc
        finally:
            conn.close()

    def close(self) -> None:
        """Commit what is queued, stop the writer, close the connection. Never raises for
        an earlier failure: `flush` and `append` report that."""
        if self._closing:
            return
        self._refusal = self._refusal or "journal is closed"
        self._closing = True
        self._wake.set()
        self._thread.join()
        try:
            if self._failure is None:  # before the server sees the socket go: a restart may
                self._conn.execute("SELECT pg_advisory_unlock_all()")  # open right after
            self._conn.close()
        except psycopg.Error:
            _log.warning("%s: closing the connection failed", self._label)

    # -- the writer ---------------------------------------------------------------------

    def _connect(self, purpose: str, *, autocommit: bool = False) -> psycopg.Connection[Any]:
        try:
            return psycopg.connect(
                self._dsn, autocommit=autocommit, connect_timeout=max(1, round(self._timeout))
            )
        except psycopg.Error as exc:
            raise JournalError(f"cannot open {self._label} for {purpose}: {exc}") from exc

    def _open_writer(self) -> psycopg.Connection[Any]:
        conn = self._connect("writing", autocommit=True)
        try:
            with conn.transaction():  # one schema creator at a time: DDL races otherwise
                conn.execute("SELECT pg_advisory_xact_lock(%s::int, 0)", (_LOCK_CLASS,))
                conn.execute(_SCHEMA)
            row = conn.execute(
                "SELECT pg_try_advisory_lock(%s::int, hashtext(%s))", (_LOCK_CLASS, self._instance)
            ).fetchone()
            if row is None or row[0] is not True:
                raise JournalError(f"{self._label} is in use by another writer")
        except BaseException as exc:
            conn.close()
            if isinstance(exc, psycopg.Error):
                raise JournalError(f"cannot open {self._label}: {exc}") from exc
            raise
        return conn

    def _max_seq(self) -> int:
        try:
            row = self._conn.execute(
                f"SELECT COALESCE(MAX(seq), 0) FROM {TABLE} WHERE instance_id = %s",
                (self._instance,),
            ).fetchone()
        except psycopg.Error as exc:
            self._conn.close()
            raise JournalError(f"cannot open {self._label}: {exc}") from exc
        return int(row[0]) if row is not None else 0

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
        arriving = woke and len(batch) > 1
        while arriving and slice_s > 0 and len(batch) < self._max_batch:
            if self._closing or time.monotonic() + slice_s > deadline:
                break
            before = len(batch)
            time.sleep(slice_s)
            batch += self._drain(self._max_batch - before)
            arriving = len(batch) > before
        return batch

    def _drain(self, limit: int) -> list[tuple[int, Event]]:
        popleft = self._queue.popleft
        return [popleft() for _ in range(min(len(self._queue), limit))]

    def _commit(self, batch: list[tuple[int, Event]]) -> bool:
        """COPY `batch` in one transaction and commit it; then publish it as durable.
        False, and the journal failed, if it could not be written."""
        try:
            instance = self._instance
            with self._conn.transaction(), self._conn.cursor() as cursor:
                copy_sql = f"COPY {TABLE} (instance_id, seq, kind, payload, ts) FROM STDIN"
                with cursor.copy(copy_sql) as copy:
                    for seq, event in batch:
                        kind, body = encode(event)
                        copy.write_row((instance, seq, kind, body, event.ts))
        except Exception as exc:
            self._fail(exc)
            return False
        seq = batch[-1][0]
        self._durable_seq = max(self._durable_seq, seq)  # committed from here on
        for callback in self._callbacks:
            try:
                callback(seq)
            except Exception:
                _log.exception("on_durable callback failed for seq %d", seq)
        with self._cond:  # flush() returns once the callbacks (the release) have run
            self._released_seq = max(self._released_seq, seq)
            self._cond.notify_all()
        return True

    def _fail(self, exc: BaseException) -> None:
        _log.error("%s failed, refusing further events: %r", self._label, exc)
        self._failure = exc
        self._refusal = f"journal failed, nothing more can be made durable: {exc!r}"
        with self._cond:
            self._cond.notify_all()
