"""PostgresJournal beyond the shared protocol: one writer per instance, append-only rows,
group commit under a producer thread, and a server that goes away or was never there."""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections.abc import Callable

import psycopg
import pytest

from interlock.domain.events import Filled
from interlock.errors import JournalError
from interlock.journal.postgres import TABLE, PostgresJournal
from interlock.sim.postgres_cluster import PostgresCluster
from interlock.sim.procs import free_ports


def fill(i: int) -> Filled:
    return Filled(ts=i, order_id=i, qty=1, price=100, exec_id=f"x{i}")


def instance() -> str:
    return f"gw-{uuid.uuid4().hex[:12]}"


def test_a_second_writer_for_the_same_instance_is_refused(postgres_dsn: str) -> None:
    name = instance()
    first = PostgresJournal(postgres_dsn, name)
    try:
        with pytest.raises(JournalError, match="in use by another writer"):
            PostgresJournal(postgres_dsn, name)
        PostgresJournal(postgres_dsn, instance()).close()  # another instance is welcome
    finally:
        first.close()
    PostgresJournal(postgres_dsn, name).close()  # the lock went with the first writer


def test_rows_carry_instance_seq_kind_payload_ts_and_refuse_update_delete_truncate(
    postgres_dsn: str,
) -> None:
    name = instance()
    journal = PostgresJournal(postgres_dsn, name)
    journal.append(fill(7))
    journal.flush(timeout=5)
    journal.close()
    with psycopg.connect(postgres_dsn, autocommit=True) as conn:
        row = conn.execute(
            f"SELECT instance_id, seq, kind, ts FROM {TABLE} WHERE instance_id = %s", (name,)
        ).fetchall()
        assert row == [(name, 1, "fill", 7)]
        for sql in (f"UPDATE {TABLE} SET kind = 'x'", f"DELETE FROM {TABLE}",
                    f"TRUNCATE {TABLE}"):  # fmt: skip
            with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
                conn.execute(sql)
    again = PostgresJournal(postgres_dsn, name)
    assert [e for _, e in again.read()] == [fill(7)]
    again.close()


def test_producer_thread_20k_events_all_durable_in_order_with_batching(postgres_dsn: str) -> None:
    journal = PostgresJournal(postgres_dsn, instance())
    seen: list[int] = []
    journal.on_durable(seen.append)
    producer = threading.Thread(target=lambda: [journal.append(fill(i)) for i in range(20_000)])
    producer.start()
    producer.join()
    assert journal.flush(timeout=20) == 20_000
    events = list(journal.read())
    journal.close()
    assert [s for s, _ in events] == list(range(1, 20_001))
    assert [e for _, e in events] == [fill(i) for i in range(20_000)]
    assert seen == sorted(set(seen)) and seen[-1] == 20_000
    assert len(seen) < 2_000  # group commit: many events per transaction


def test_a_stopped_server_makes_the_journal_unavailable_and_a_restart_takes_the_backlog(
    postgres_cluster_factory: Callable[[], PostgresCluster],
) -> None:
    pg = postgres_cluster_factory()
    journal = PostgresJournal(pg.dsn, "gw-1")
    journal.append(fill(1))
    journal.flush(timeout=5)
    pg.stop()
    journal.append(fill(2))
    with pytest.raises(JournalError, match="unavailable") as caught:
        journal.flush(timeout=5)
    assert isinstance(caught.value.__cause__, (psycopg.Error, JournalError))
    assert journal.append(fill(3)) == 3 and journal.durable_seq == 1  # kept in memory
    with pytest.raises(JournalError, match="cannot open"):
        PostgresJournal(pg.dsn, "gw-1", connect_timeout_s=1)
    pg.start()
    deadline = time.monotonic() + 15
    while journal.durable_seq < 3:  # the writer reconnects by itself
        assert time.monotonic() < deadline, "the backlog never reached the restarted server"
        time.sleep(0.01)
    assert journal.flush(timeout=5) == 3 and journal.available
    journal.close()
    again = PostgresJournal(pg.dsn, "gw-1")
    assert [e for _, e in again.read()] == [fill(1), fill(2), fill(3)]
    assert again.append(fill(4)) == 4
    again.close()


def test_no_server_at_the_address_is_a_JournalError_naming_the_instance() -> None:
    port = free_ports(1)[0]
    dsn = f"host=127.0.0.1 port={port} dbname=postgres user=postgres"
    with pytest.raises(JournalError, match="cannot open postgres journal of instance 'gw-9'"):
        PostgresJournal(dsn, "gw-9", connect_timeout_s=1)


def test_flush_times_out_with_JournalError_while_commit_is_stuck(postgres_dsn: str) -> None:
    journal = PostgresJournal(postgres_dsn, instance())
    release = threading.Event()
    journal.on_durable(lambda seq: release.wait(5))  # the writer stalls after commit 1
    journal.append(fill(1))
    with pytest.raises(JournalError, match="timed out"):
        journal.flush(timeout=0.05)
    release.set()
    assert journal.flush(timeout=5) == 1
    journal.close()


def test_a_commit_whose_ack_was_lost_leaves_the_checksum_chain_whole(
    postgres_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A COMMIT that landed but whose acknowledgement died (the connection went): the
    writer's head of the checksum chain is the one before that batch. The retry reconnects
    and must chain the next records from what the table holds, or every record after them
    fails its checksum at the next recovery."""
    name = instance()
    journal = PostgresJournal(postgres_dsn, name)
    real_write = PostgresJournal._write
    lost = threading.Event()

    def write_then_lose_the_ack(self: PostgresJournal, batch: list) -> None:  # type: ignore[type-arg]
        before = self._crc
        real_write(self, batch)
        if not lost.is_set():
            lost.set()
            self._crc = before  # as if the COMMIT's answer never came
            raise psycopg.OperationalError("server closed the connection unexpectedly")

    try:
        journal.append(fill(1))
        journal.flush(timeout=5)
        monkeypatch.setattr(PostgresJournal, "_write", write_then_lose_the_ack)
        for i in range(2, 6):
            journal.append(fill(i))
        deadline = time.monotonic() + 20
        # the retry publishes what landed, then says the journal is available again (a
        # moment later: until then a flush refuses at once, as it must while unavailable)
        while journal.durable_seq < 5 or not journal.available:
            assert time.monotonic() < deadline, "journal never came back"
            with contextlib.suppress(JournalError):
                journal.flush(timeout=1)
        journal.append(fill(6))
        journal.flush(timeout=5)
        assert lost.is_set()
    finally:
        journal.close()
    reopened = PostgresJournal(postgres_dsn, name)
    try:
        assert [seq for seq, _ in reopened.read()] == [1, 2, 3, 4, 5, 6]
    finally:
        reopened.close()


def test_without_a_writer_thread_records_are_durable_only_once_flushed(postgres_dsn: str) -> None:
    """background=False (as SqliteJournal's): the caller's `flush` commits, nothing else."""
    name = instance()
    journal = PostgresJournal(postgres_dsn, name, background=False)
    try:
        assert not journal.has_writer
        journal.append(fill(1))
        journal.append(fill(2))
        assert (journal.last_seq, journal.durable_seq, list(journal.read())) == (2, 0, [])
        assert journal.flush() == 2
        assert [seq for seq, _ in journal.read()] == [1, 2]
    finally:
        journal.close()
