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

The order index (`{TABLE}_orders`: instance, order id, seq) is COPYed in the same
transaction as the rows it points at, and `{TABLE}_indexed` keeps per instance the newest
seq indexed, so rows an older build wrote are indexed when this one opens (`_backfill`).
`order_history` reads one order's rows through it, on a connection of its own.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator
from typing import Any

import psycopg

from interlock.domain.events import Event
from interlock.errors import JournalError
from interlock.journal.chain import GENESIS, link, verified
from interlock.journal.codec import KINDS, ORDER_EVENT_TYPES, decode, encode, order_id_of
from interlock.journal.group_commit import Batch, GroupCommitJournal

TABLE = "interlock_journal"
SCHEMA_VERSION = 2  # 2: every row carries its chained checksum (journal/chain.py)
_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    instance_id text   NOT NULL,
    seq         bigint NOT NULL CHECK (seq > 0),
    kind        text   NOT NULL,
    payload     bytea  NOT NULL,
    ts          bigint NOT NULL,
    crc         bigint NOT NULL,
    PRIMARY KEY (instance_id, seq)
);
DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema =
            current_schema() AND table_name = '{TABLE}' AND column_name = 'crc') THEN
        RAISE EXCEPTION 'table {TABLE} has no crc column: it was made by a pre-release '
            'build whose records carry no checksum; this build reads schema {SCHEMA_VERSION} '
            'only (rename the table to keep it, and start on a new one)';
    END IF;
END $$;
CREATE TABLE IF NOT EXISTS {TABLE}_orders (
    instance_id text   NOT NULL,
    order_id    bigint NOT NULL,
    seq         bigint NOT NULL,
    PRIMARY KEY (instance_id, order_id, seq)
);
CREATE TABLE IF NOT EXISTS {TABLE}_indexed (
    instance_id text   PRIMARY KEY,
    through_seq bigint NOT NULL
);
CREATE OR REPLACE FUNCTION {TABLE}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'journal is append-only'; END $$;
CREATE OR REPLACE TRIGGER {TABLE}_no_change BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION {TABLE}_append_only();
CREATE OR REPLACE TRIGGER {TABLE}_no_truncate BEFORE TRUNCATE ON {TABLE}
    FOR EACH STATEMENT EXECUTE FUNCTION {TABLE}_append_only();
"""
_SET_THROUGH_SQL = (
    f"INSERT INTO {TABLE}_indexed VALUES (%s, %s) "
    "ON CONFLICT (instance_id) DO UPDATE SET through_seq = EXCLUDED.through_seq"
)
_HISTORY_SQL = (
    f"SELECT e.seq, e.kind, e.payload FROM {TABLE}_orders i JOIN {TABLE} e "
    "ON e.instance_id = i.instance_id AND e.seq = i.seq "
    "WHERE i.instance_id = %s AND i.order_id = %s AND i.seq < %s ORDER BY i.seq"
)
_INDEX_COPY_SQL = f"COPY {TABLE}_orders (instance_id, order_id, seq) FROM STDIN"
_BACKFILL_ROWS = 50_000  # rows decoded per step when indexing what an older build wrote
_LOCK_CLASS = 0x1A7E  # first key of every advisory lock this module takes
_log = logging.getLogger(__name__)


class PostgresJournal(GroupCommitJournal):
    """`Journal` in one PostgreSQL table shared by a fleet, with one committing thread.

    Every row carries the checksum chain of journal/chain.py, and `read` verifies it.

    Group commit and linger policy: `group_commit`'s, as SqliteJournal's.
    `connect_timeout_s` bounds every connection attempt; `background=False` commits in
    the caller's thread inside `flush()` (no writer thread), as SqliteJournal's does.
    """

    _crc: int | None = None  # the chain's head: the newest committed row's checksum

    def __init__(
        self,
        dsn: str,
        instance_id: str,
        *,
        max_wait_s: float = 0.001,
        max_batch: int = 8192,
        connect_timeout_s: float = 5.0,
        background: bool = True,
    ) -> None:
        """`background=False` commits in the caller's thread inside `flush()`, as
        SqliteJournal's does: a caller that decides when records become durable (the
        stateful test, which drops what was never flushed) needs no writer thread."""
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
        try:
            self._backfill()
        except BaseException:
            self._conn.close()
            raise
        self._reader: psycopg.Connection[Any] | None = None  # order_history's, on first use
        self._reader_lock = threading.Lock()
        self._start(self._max_seq())
        if background:
            self._start_writer("pg-journal-writer")

    @property
    def instance_id(self) -> str:
        return self._instance

    def read(self, after_seq: int = 0) -> Iterator[tuple[int, Event]]:
        """Stream this instance's committed events, in order, on a connection of its own,
        each checked against the sequence and the checksum chain (RecoveryError naming the
        instance and the seq at the first that breaks)."""
        conn = self._connect("reading")
        try:
            with conn.cursor(name="interlock_journal_read") as cursor:
                cursor.execute(
                    f"SELECT seq, ts, kind, payload, crc FROM {TABLE} "
                    "WHERE instance_id = %s AND seq >= %s ORDER BY seq",
                    (self._instance, after_seq),
                )
                rows = (
                    (seq, ts, kind, bytes(payload), crc)
                    for batch in iter(lambda: cursor.fetchmany(1024), [])
                    for seq, ts, kind, payload, crc in batch
                )
                yield from verified(rows, self._label, after_seq)
        except psycopg.Error as exc:
            raise JournalError(f"cannot read {self._label}: {exc}") from exc
        finally:
            conn.close()

    def order_history(
        self, order_id: int, before_seq: int | None = None
    ) -> list[tuple[int, Event]]:
        """This instance's committed rows about one order, through the order index."""
        bound = 2**63 - 1 if before_seq is None else before_seq
        with self._reader_lock:
            try:
                if self._reader is None or self._reader.closed:
                    self._reader = self._connect("reading", autocommit=True)
                rows = self._reader.execute(
                    _HISTORY_SQL, (self._instance, order_id, bound)
                ).fetchall()
            except psycopg.Error as exc:
                if self._reader is not None:
                    self._reader.close()  # a broken connection: the next call opens another
                    self._reader = None
                raise JournalError(f"cannot read {self._label}: {_one_line(exc)}") from exc
        return [(seq, decode(kind, bytes(payload))) for seq, kind, payload in rows]

    def close(self) -> None:
        """Commit what is queued, stop the writer, close the connection. Never raises for
        an earlier failure: `flush` and `append` report that."""
        if self._closing:
            return
        with self._reader_lock:
            if self._reader is not None:
                self._reader.close()
                self._reader = None
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

    def _backfill(self) -> None:
        """Index this instance's rows the index does not cover yet (an older build wrote
        them), from the newest seq indexed, in steps, in one transaction."""
        instance = self._instance
        kinds = [KINDS[t] for t in ORDER_EVENT_TYPES]
        try:
            with self._conn.transaction(), self._conn.cursor() as cursor:
                row = cursor.execute(
                    f"SELECT through_seq FROM {TABLE}_indexed WHERE instance_id = %s", (instance,)
                ).fetchone()
                after = 0 if row is None else int(row[0])
                last = cursor.execute(
                    f"SELECT COALESCE(MAX(seq), 0) FROM {TABLE} WHERE instance_id = %s",
                    (instance,),
                ).fetchone()
                last_seq = 0 if last is None else int(last[0])
                if last_seq <= after:
                    return
                _log.warning("%s: indexing rows %d..%d by order (written by an older build)",
                             self._label, after + 1, last_seq)  # fmt: skip
                while after < last_seq:
                    upto = min(last_seq, after + _BACKFILL_ROWS)
                    rows = cursor.execute(
                        f"SELECT seq, kind, payload FROM {TABLE} WHERE instance_id = %s "
                        "AND seq > %s AND seq <= %s AND kind = ANY(%s)",
                        (instance, after, upto, kinds),
                    ).fetchall()
                    ids, seqs = _index_rows(rows)
                    if ids:
                        cursor.execute(
                            f"INSERT INTO {TABLE}_orders SELECT %s, unnest(%s::bigint[]), "
                            "unnest(%s::bigint[]) ON CONFLICT DO NOTHING",
                            (instance, ids, seqs),
                        )
                    after = upto
                cursor.execute(_SET_THROUGH_SQL, (instance, last_seq))
        except psycopg.Error as exc:
            raise JournalError(f"cannot index {self._label} by order: {_one_line(exc)}") from exc

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
        self._crc = None  # the chain's head is read again: a lost COMMIT ack may have landed
        return self._max_seq()

    def _write(self, batch: Batch) -> None:
        """COPY `batch` in one transaction; its COMMIT is the durability point. Each row's
        chained checksum is computed here, on the writer thread; the chain's head is read
        once, by the first write (a writer that reconnects sets `_crc` to None again)."""
        instance = self._instance
        with self._conn.transaction(), self._conn.cursor() as cursor:
            crc = self._crc
            if crc is None:
                cursor.execute(
                    f"SELECT crc FROM {TABLE} WHERE instance_id = %s ORDER BY seq DESC LIMIT 1",
                    (instance,),
                )
                head = cursor.fetchone()
                crc = GENESIS if head is None else int(head[0])
            copy_sql = f"COPY {TABLE} (instance_id, seq, kind, payload, ts, crc) FROM STDIN"
            index: list[tuple[str, int, int]] = []
            with cursor.copy(copy_sql) as copy:
                for seq, event in batch:
                    kind, body = encode(event)
                    crc = link(crc, seq, event.ts, kind, body)
                    copy.write_row((instance, seq, kind, body, event.ts, crc))
                    order_id = order_id_of(event)
                    if order_id is not None:
                        index.append((instance, order_id, seq))
            if index:
                with cursor.copy(
                    f"COPY {TABLE}_orders (instance_id, order_id, seq) FROM STDIN"
                ) as copy:
                    for row in index:
                        copy.write_row(row)
            cursor.execute(_SET_THROUGH_SQL, (instance, batch[-1][0]))
        self._crc = crc  # only once committed: a failed batch leaves the chain's head


def _index_rows(rows: list[tuple[int, str, Any]]) -> tuple[list[int], list[int]]:
    """(order ids, seqs) of the rows, decoded, that are about an order."""
    ids: list[int] = []
    seqs: list[int] = []
    for seq, kind, payload in rows:
        order_id = order_id_of(decode(kind, bytes(payload)))
        if order_id is not None:
            ids.append(order_id)
            seqs.append(seq)
    return ids, seqs


def _one_line(exc: BaseException) -> str:
    """libpq's message on one line (it spreads a refused connection over several, with tabs):
    an operator reads it as the one line `serve failed: ...`."""
    return " ".join(str(exc).split())
