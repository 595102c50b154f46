"""SqliteJournal beyond the shared protocol (tests/journal/test_journal_conformance.py):
durability, batching, append-only triggers, faults retried on a fresh connection, crash
recovery."""

from __future__ import annotations

import contextlib
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from interlock.domain.events import Filled, LimitsLoaded
from interlock.errors import JournalError
from interlock.journal import SqliteJournal
from interlock.journal.sqlite import SCHEMA_VERSION


def fill(i: int) -> Filled:
    return Filled(ts=i, order_id=i, qty=1, price=100, exec_id=f"x{i}")


def rows(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        count: int = conn.execute("SELECT COUNT(*) FROM events").fetchone()[0]
    return count


@pytest.fixture(params=[True, False], ids=["background", "sync"])
def journal(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqliteJournal]:
    j = SqliteJournal(tmp_path / "j.db", background=request.param)
    yield j
    j.close()


def test_triggers_refuse_update_and_delete(journal: SqliteJournal, tmp_path: Path) -> None:
    journal.append(fill(1))
    journal.flush()
    with sqlite3.connect(tmp_path / "j.db") as conn:
        for sql in ("UPDATE events SET kind = 'fill' WHERE seq = 1", "DELETE FROM events"):
            with pytest.raises(sqlite3.DatabaseError, match="append-only"):
                conn.execute(sql)
    assert rows(tmp_path / "j.db") == 1


def test_durable_seq_equals_committed_rows_and_callbacks_increase(
    journal: SqliteJournal, tmp_path: Path
) -> None:
    seen: list[int] = []
    journal.on_durable(seen.append)
    for burst in range(20):
        for i in range(burst * 7):
            journal.append(fill(i))
        durable = journal.flush()
        assert durable == journal.last_seq == rows(tmp_path / "j.db")
    assert seen == sorted(set(seen))
    assert seen[-1] == journal.durable_seq


def test_producer_thread_50k_events_all_durable_in_order_with_batching(tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path / "j.db")
    seen: list[int] = []
    journal.on_durable(seen.append)
    producer = threading.Thread(target=lambda: [journal.append(fill(i)) for i in range(50_000)])
    producer.start()
    partial = sum(1 for _ in journal.read())  # reading while the writer commits
    producer.join()
    assert journal.flush(timeout=10) == 50_000
    events = list(journal.read())
    journal.close()
    assert partial <= 50_000
    assert [s for s, _ in events] == list(range(1, 50_001))
    assert [e for _, e in events] == [fill(i) for i in range(50_000)]
    assert seen == sorted(set(seen)) and seen[-1] == 50_000
    assert len(seen) < 5_000  # group commit: many events per fsync


@pytest.mark.parametrize("background", [True, False])
def test_batches_are_capped_and_split_without_reordering(tmp_path: Path, background: bool) -> None:
    journal = SqliteJournal(tmp_path / "j.db", background=background, max_batch=3)
    seen: list[int] = []
    journal.on_durable(seen.append)
    for i in range(1, 12):
        journal.append(fill(i))
    journal.flush(timeout=5)
    assert [e for _, e in journal.read()] == [fill(i) for i in range(1, 12)]
    assert all(b - a <= 2 for a, b in zip([0, *seen], seen, strict=False))  # 3 -> 2 rows
    assert seen[-1] == 11
    journal.close()


def test_a_failed_commit_makes_the_journal_unavailable_and_a_retry_writes_it(
    journal: SqliteJournal, tmp_path: Path
) -> None:
    seen: list[int] = []
    statuses: list[bool] = []
    journal.on_durable(seen.append)
    journal.on_status(lambda status: statuses.append(status.available))
    journal.append(fill(1))
    journal.flush()
    # Disk full: forbid the file from growing by one more page (on this connection: the
    # retry's fresh connection has room again, as a disk that was cleared has).
    pages = journal._conn.execute("PRAGMA page_count").fetchone()[0]
    journal._conn.execute(f"PRAGMA max_page_count = {pages}")
    journal.append(LimitsLoaded(2, "big", "x" * 200_000))
    deadline = time.monotonic() + 10
    while journal.durable_seq < 2:  # flush raises while unavailable (and retries, if sync)
        assert time.monotonic() < deadline, "the retry never wrote the record"
        with contextlib.suppress(JournalError):
            journal.flush(timeout=5)
        time.sleep(0.005)
    assert journal.append(fill(3)) == 3 and journal.flush(timeout=5) == 3
    assert statuses == [False, True] and seen[-1] == 3
    journal.close()
    assert rows(tmp_path / "j.db") == 3


def test_a_batch_failing_midway_leaves_no_part_of_it_on_disk(tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path / "j.db", background=False)
    journal.append(fill(0))
    journal.flush()
    pages = journal._conn.execute("PRAGMA page_count").fetchone()[0]
    # A 4096-row batch needs about 61 new pages: the disk fills halfway through it.
    journal._conn.execute(f"PRAGMA max_page_count = {pages + 30}")
    for i in range(1, 4097):
        journal.append(fill(i))
    with pytest.raises(JournalError, match="unavailable") as caught:
        journal.flush()
    assert isinstance(caught.value.__cause__, sqlite3.Error)
    assert rows(tmp_path / "j.db") == 1  # none of the batch
    assert not journal.available
    journal.close()  # the retry (a fresh connection: room again) writes the whole batch
    assert rows(tmp_path / "j.db") == 4097


def test_an_unencodable_event_fails_the_journal_closed(journal: SqliteJournal) -> None:
    journal.append(fill(1))
    journal.flush(timeout=5)
    journal.append(Filled(2, 2, 2**64, 100, "x"))  # wider than msgpack's 64-bit ints
    with pytest.raises(JournalError, match="cannot encode"):
        journal.flush(timeout=5)
    assert journal.durable_seq == 1


def test_a_connection_lost_underneath_fails_flush_then_a_fresh_one_writes(
    tmp_path: Path,
) -> None:
    journal = SqliteJournal(tmp_path / "j.db", background=False)
    journal._conn.close()
    journal.append(fill(1))
    with pytest.raises(JournalError, match="unavailable") as caught:
        journal.flush()
    assert isinstance(caught.value.__cause__, sqlite3.ProgrammingError)
    assert journal.append(fill(2)) == 2 and journal.durable_seq == 0
    assert journal.flush() == 2 and journal.available  # the next flush reconnects first
    journal.close()
    assert rows(tmp_path / "j.db") == 2


def test_flush_times_out_with_JournalError_while_commit_is_stuck(tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path / "j.db")
    release = threading.Event()

    def stall(seq: int) -> None:  # the writer stalls after commit 1
        release.wait(5)

    journal.on_durable(stall)
    journal.append(fill(1))
    with pytest.raises(JournalError, match="timed out"):
        journal.flush(timeout=0.05)
    release.set()
    assert journal.flush(timeout=5) == 1
    journal.close()


def test_a_raising_callback_does_not_stop_the_journal(tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path / "j.db")
    seen: list[int] = []

    def broken(seq: int) -> None:
        raise RuntimeError("venue down")

    journal.on_durable(broken)
    journal.on_durable(seen.append)
    journal.append(fill(1))
    assert journal.flush(timeout=5) == 1 and seen == [1]
    journal.close()


def test_flush_from_a_callback_raises_instead_of_deadlocking(tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path / "j.db")
    errors: list[Exception] = []

    def flushing(seq: int) -> None:
        try:
            journal.flush()
        except JournalError as exc:
            errors.append(exc)

    journal.on_durable(flushing)
    journal.append(fill(1))
    assert journal.flush(timeout=5) == 1
    assert len(errors) == 1 and "wait on itself" in str(errors[0])
    journal.close()


def test_a_second_writer_on_the_same_file_is_refused(
    journal: SqliteJournal, tmp_path: Path
) -> None:
    with pytest.raises(JournalError, match="in use"):
        SqliteJournal(tmp_path / "j.db")


@pytest.mark.parametrize("version", [SCHEMA_VERSION - 1, SCHEMA_VERSION + 1])
def test_another_schema_version_is_refused(tmp_path: Path, version: int) -> None:
    SqliteJournal(tmp_path / "j.db").close()
    with sqlite3.connect(tmp_path / "j.db") as conn:
        conn.execute(f"UPDATE meta SET value = '{version}' WHERE key = 'schema_version'")
    with pytest.raises(JournalError, match=f"schema version '{version}'.*version {SCHEMA_VERSION}"):
        SqliteJournal(tmp_path / "j.db")


def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    (tmp_path / "j.db").write_bytes(b"not a database" * 100)
    with pytest.raises(JournalError, match="cannot open"):
        SqliteJournal(tmp_path / "j.db")
    with pytest.raises(JournalError, match="cannot open"):
        SqliteJournal(tmp_path / "no-such-dir" / "j.db")


CHILD = """
import sys
from interlock.domain.events import Filled
from interlock.journal import SqliteJournal
journal = SqliteJournal(sys.argv[1])
i = 0
while True:
    i += 1
    journal.append(Filled(ts=i, order_id=i, qty=1, price=100, exec_id=f"x{i}"))
    if i % 500 == 0 and i <= 2000:
        journal.flush()
        print(i, flush=True)
"""


def test_every_flushed_event_survives_SIGKILL(tmp_path: Path) -> None:
    """Kill the process: what was flushed is there, in sequence, and the file reopens.
    Not a proof of the fsync: SIGKILL keeps the page cache, so this passes with
    `synchronous = OFF` too; test_sqlite_fsync_before_ack.py watches the fsyncs."""
    path = tmp_path / "j.db"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path)], stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    try:
        flushed = 0
        while flushed < 2000:
            flushed = int(child.stdout.readline())
        threading.Event().wait(0.05)  # let it keep appending and committing
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    journal = SqliteJournal(path)
    events = list(journal.read())
    assert len(events) >= 2000
    assert [s for s, _ in events] == list(range(1, len(events) + 1))
    assert [e for _, e in events] == [fill(i) for i in range(1, len(events) + 1)]
    assert journal.append(fill(0)) == len(events) + 1
    journal.close()
