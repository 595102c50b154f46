"""What the whole-gateway machine adds to the exposure machine: journals that can crash.

A SIGKILL takes the process's memory with it: records appended to the journal's queue but
never committed are gone, what was committed stays in the file (SQLite) or the database
(PostgreSQL). `crash()` is that, in process: the queue is dropped unwritten, the writer's
connection is abandoned (SQLite: left open, so its WAL is not checkpointed away, as a
killed process leaves it) and the lock a writer holds is let go (the flock file; the
PostgreSQL session, whose advisory lock the server drops with it). A new journal over the
same file or instance must then hold exactly the durable prefix.

Both journals commit in the caller's thread inside `flush` (`background=False`), so the
machine, not a writer thread, decides when records become durable: the same program runs
the same way every time, and "appended but not durable" is a state a rule can crash in.
Each keeps `log`: the durable events it found on opening, then every event appended since
(durable or not), which is the model the machine folds.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import psycopg

from interlock.domain.events import Event
from interlock.journal.postgres import PostgresJournal
from interlock.journal.sqlite import SqliteJournal

DEAD = "the process holding this journal was killed"


class RecordingSqlite(SqliteJournal):
    """A SQLite journal (a real file) committing in `flush`, with `log` and `crash`."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, background=False)
        self.log: list[Event] = [ev for _, ev in self.read()]
        self.abandoned: list[sqlite3.Connection] = []

    def append(self, event: Event) -> int:
        seq = super().append(event)
        self.log.append(event)
        assert seq == len(self.log)
        return seq

    def crash(self) -> int:
        """Drop what was never committed; how many records that was."""
        lost = len(self._queue)
        self._queue.clear()
        self._refusal = DEAD
        self._closing = True
        self.abandoned.append(self._conn)  # not closed: its WAL stays, as after a kill
        self._lock_file.close()
        return lost

    def release(self) -> None:
        """After the test: close what a crash left open."""
        for conn in self.abandoned:
            conn.close()


class RecordingPostgres(PostgresJournal):
    """A PostgreSQL journal (a real server) committing in `flush`, with `log` and `crash`."""

    def __init__(self, dsn: str, instance_id: str) -> None:
        super().__init__(dsn, instance_id, background=False)
        self.log: list[Event] = [ev for _, ev in self.read()]

    def append(self, event: Event) -> int:
        seq = super().append(event)
        self.log.append(event)
        assert seq == len(self.log)
        return seq

    def crash(self, timeout_s: float = 10.0) -> int:
        """Drop what was never committed and the session (the server ends it and drops its
        advisory lock); return once the server has, so a restart can take the lock."""
        lost = len(self._queue)
        self._queue.clear()
        self._refusal = DEAD
        self._closing = True
        pid = self._conn.info.backend_pid
        self._conn.close()
        deadline = time.monotonic() + timeout_s
        with psycopg.connect(self._dsn, autocommit=True) as conn:
            while conn.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone():
                assert time.monotonic() < deadline, f"backend {pid} still there after {timeout_s}s"
                time.sleep(0.005)
        return lost

    def release(self) -> None:
        """Nothing is left open by a crash here: the session went with it."""
