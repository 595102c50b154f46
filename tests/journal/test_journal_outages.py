"""Real journal outages under load: the PostgreSQL server restarted (`pg_ctl stop -m
immediate`, then start) and the disk filled (SQLite on a small tmpfs, filled with a ballast
file). While down: JOURNAL_UNAVAILABLE for new orders, the instance halted. After: the
backlog durable, every decided order in the journal exactly once at a gap-free sequence,
the halt still in force until a person resumes it. Each test is bounded in time and in
orders; the load loop stops by itself.
"""

from __future__ import annotations

import contextlib
import errno
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from interlock.domain.enums import HaltScope
from interlock.domain.events import Event, OrderDecided
from interlock.domain.reject import RejectCode
from interlock.errors import JournalError
from interlock.journal.base import Journal
from interlock.journal.group_commit import RETRY_MAX_S
from interlock.journal.postgres import PostgresJournal
from interlock.journal.sqlite import SqliteJournal
from interlock.sim.harness import DESK_KEY, Harness, around_the_clock, build, high_rate
from interlock.sim.postgres_cluster import PostgresCluster

MAX_ORDERS = 50_000  # the load loop's bound in count, whatever happens
MAX_LOAD_S = 60.0  # and in time
CHECKS_OFF = ("duplicate_order", "reference_fresh")  # a steady loop of like orders, no feed


def wait_for(cond: Callable[[], bool], timeout: float, what: str) -> float:
    start = time.monotonic()
    while not cond():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.005)
    return time.monotonic() - start


class Load:
    """A bounded loop on its own thread: submit a resting buy, wait for its ack (as REST
    does, `rest.ack_timeout_ms` = 1 s), cancel it; codes counted, accepted ids kept."""

    def __init__(self, h: Harness) -> None:
        self.h = h
        self.stop = threading.Event()
        self.decided: list[int] = []  # order ids accepted (decided), acked or not
        self.acked: list[int] = []  # of those, acked: durable and released
        self.codes: dict[str, int] = {}
        self.unacked = 0  # accepted but not durable within the ack timeout
        self.thread = threading.Thread(target=self._run, name="outage-load", daemon=True)

    def __enter__(self) -> Load:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        self.thread.join(10)
        assert not self.thread.is_alive(), "the load loop did not stop"

    def _run(self) -> None:
        gw, deadline = self.h.gateway, time.monotonic() + MAX_LOAD_S
        for i in range(MAX_ORDERS):
            if self.stop.is_set() or time.monotonic() > deadline:
                return
            price = Decimal("99.00") - Decimal(i % 50) / 100  # resting: under the bid
            d = gw.submit(self.h.order(quantity=1 + i % 9, limit_price=price), DESK_KEY)
            code = "ACCEPTED" if d.accepted else d.code.value  # type: ignore[union-attr]
            self.codes[code] = self.codes.get(code, 0) + 1
            if not d.accepted:
                self.stop.wait(0.002)  # refused at once: do not spin
                continue
            assert d.order_id is not None
            self.decided.append(d.order_id)
            try:
                gw.wait(d, 1.0)
            except JournalError:
                self.unacked += 1
                continue
            self.acked.append(d.order_id)
            gw.cancel(d.order_id, DESK_KEY)

    def count(self, code: str) -> int:
        return self.codes.get(code, 0)


def started(journal: Journal) -> Harness:
    h = build(high_rate(around_the_clock()), journal=journal, clock=time.time_ns,
              disabled_checks=CHECKS_OFF)  # fmt: skip
    h.gateway.start_heartbeat()
    return h


def accepted_in(events: list[tuple[int, Event]]) -> list[int]:
    return [e.order_id for _, e in events if type(e) is OrderDecided and e.order_id is not None]


def check_after_outage(h: Harness, load: Load, events: list[tuple[int, Event]]) -> None:
    """Nothing decided lost, nothing twice, the sequence whole, the halt still in force."""
    seqs = [s for s, _ in events]
    assert seqs == list(range(1, len(seqs) + 1)), "the journal's sequence has a gap"
    in_journal = accepted_in(events)
    assert len(in_journal) == len(set(in_journal)), "an order is in the journal twice"
    assert sorted(in_journal) == sorted(load.decided), "decided orders missing from the journal"
    assert set(load.acked) <= set(in_journal)
    assert load.count("JOURNAL_UNAVAILABLE") > 0 and load.count("ACCEPTED") > 0, load.codes
    assert h.gateway.halts.get(HaltScope.INSTANCE, "gw-1") is not None, "the halt was lifted"


def resume_and_trade(h: Harness) -> None:
    gw = h.gateway
    d = gw.submit(h.order(quantity=3, limit_price=Decimal("98.00")), DESK_KEY)
    assert d.code is RejectCode.HALTED  # the journal is back, the halt stays
    assert gw.resume(HaltScope.INSTANCE, "gw-1", "ops") is True  # a person resumes it
    d = gw.submit(h.order(quantity=4, limit_price=Decimal("98.00")), DESK_KEY)
    assert d.accepted and gw.wait(d, 5) is d


def test_postgres_restarted_under_load_halts_keeps_the_backlog_and_resumes_by_hand(
    postgres_cluster_factory: Callable[[], PostgresCluster],
) -> None:
    pg = postgres_cluster_factory()
    journal = PostgresJournal(pg.dsn, "gw-1", connect_timeout_s=1)
    h = started(journal)
    try:
        with Load(h) as load:
            wait_for(lambda: len(load.acked) >= 200, 20, "load acked before the outage")
            pg.stop()
            wait_for(lambda: not journal.available, 10, "the journal to notice the server gone")
            assert h.gateway.journal_watch.halted.wait(10)
            assert h.gateway.health().gate == "JOURNAL_UNAVAILABLE"
            down = load.count("JOURNAL_UNAVAILABLE")
            wait_for(lambda: load.count("JOURNAL_UNAVAILABLE") > down + 20, 10, "refusals")
            assert [x.scope for x in h.plane.halts()] == [HaltScope.INSTANCE]
            pg.start()
            took = wait_for(lambda: journal.available, RETRY_MAX_S + 15, "the journal back")
            assert took < RETRY_MAX_S + 15
        journal.flush(timeout=10)
        check_after_outage(h, load, list(journal.read()))
        resume_and_trade(h)
    finally:
        h.gateway.close()


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A 4 MiB tmpfs (root only): a disk that really fills."""
    where = tmp_path / f"tmpfs-{uuid.uuid4().hex[:6]}"
    where.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(where)],
                          capture_output=True, text=True)  # fmt: skip
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {done.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def fill_disk(path: Path) -> int:
    """Write `path` until the file system is full; the bytes written."""
    written, chunk = 0, b"\0" * 65536
    with open(path, "wb", buffering=0) as ballast:
        while True:
            try:
                written += ballast.write(chunk)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC, exc
                chunk = b"\0" * 512
                with contextlib.suppress(OSError):
                    while True:
                        written += ballast.write(chunk)
                return written


def test_disk_full_under_load_halts_keeps_the_backlog_and_resumes_by_hand(tmpfs: Path) -> None:
    path = tmpfs / "journal.db"
    journal = SqliteJournal(path)
    h = started(journal)
    ballast = tmpfs / "ballast"
    try:
        with Load(h) as load:
            wait_for(lambda: len(load.acked) >= 200, 20, "load acked before the disk fills")
            fill_disk(ballast)
            wait_for(lambda: not journal.available, 20, "the journal to hit the full disk")
            assert "full" in journal.status.failure, journal.status
            assert h.gateway.journal_watch.halted.wait(10)
            assert h.gateway.health().journal == "JOURNAL_UNAVAILABLE"
            down = load.count("JOURNAL_UNAVAILABLE")
            wait_for(lambda: load.count("JOURNAL_UNAVAILABLE") > down + 20, 10, "refusals")
            ballast.unlink()  # an operator frees the disk
            wait_for(lambda: journal.available, RETRY_MAX_S + 10, "the journal back")
        journal.flush(timeout=10)
        live = list(journal.read())
        check_after_outage(h, load, live)
        resume_and_trade(h)
    finally:
        h.gateway.close()
    reopened = SqliteJournal(path)  # what a restart finds: all of it, nothing twice
    try:
        events = list(reopened.read())
        assert events[: len(live)] == live  # the outage's records, as they were live
        assert [s for s, _ in events] == list(range(1, len(events) + 1))
        assert len(accepted_in(events)) == len(set(accepted_in(events))) == len(load.decided) + 1
    finally:
        reopened.close()
