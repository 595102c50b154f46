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
the sequence). A database error (server gone, connection killed, disk full) makes the
journal unavailable as SQLite's do (`group_commit.py`): records stay queued in memory and
the writer retries; each retry reconnects (`_recover`: a new writer connection, the advisory
lock taken again) and reads this instance's highest seq, because a batch whose COMMIT
acknowledgement was lost with the connection may have committed: what is there is not
written again, so nothing is duplicated.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

import psycopg

from interlock.domain.events import Event
from interlock.errors import JournalError, RecoveryError
from interlock.journal.codec import decode, encode
from interlock.journal.group_commit import Batch, GroupCommitJournal

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
_log = logging.getLogger(__name__)


class PostgresJournal(GroupCommitJournal):
    """`Journal` in one PostgreSQL table shared by a fleet, with one committing thread.

    Group commit and linger policy: `group_commit`'s, as SqliteJournal's.
    `connect_timeout_s` bounds every connection attempt.
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
        if connect_timeout_s <= 0:
            raise ValueError("connect_timeout_s must be > 0")
        if not instance_id:
            raise ValueError("instance_id must not be empty")
        super().__init__(max_wait_s=max_wait_s, max_batch=max_batch)
        self._dsn = dsn
        self._instance = instance_id
        self._label = f"postgres journal of instance {instance_id!r}"
        self._timeout = connect_timeout_s
        self._conn = self._open_writer()
        self._start(self._max_seq())
        self._start_writer("pg-journal-writer")

    @property
    def instance_id(self) -> str:
        return self._instance

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
        self._stop_writer()
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
            raise JournalError(
                f"cannot open {self._label} for {purpose}: {_one_line(exc)}"
            ) from exc

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
                raise JournalError(f"cannot open {self._label}: {_one_line(exc)}") from exc
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

    def _recover(self) -> int:
        """A new writer connection (and advisory lock); this instance's highest seq."""
        with contextlib.suppress(psycopg.Error):
            self._conn.close()
        self._conn = self._open_writer()
        return self._max_seq()

    def _write(self, batch: Batch) -> None:
        """COPY `batch` in one transaction; its COMMIT is the durability point."""
        instance = self._instance
        with self._conn.transaction(), self._conn.cursor() as cursor:
            copy_sql = f"COPY {TABLE} (instance_id, seq, kind, payload, ts) FROM STDIN"
            with cursor.copy(copy_sql) as copy:
                for seq, event in batch:
                    kind, body = encode(event)
                    copy.write_row((instance, seq, kind, body, event.ts))


def _one_line(exc: BaseException) -> str:
    """libpq's message on one line (it spreads a refused connection over several, with tabs):
    an operator reads it as the one line `serve failed: ...`."""
    return " ".join(str(exc).split())
