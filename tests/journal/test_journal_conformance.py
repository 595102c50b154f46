"""The Journal protocol, one suite run unchanged against memory, SQLite and PostgreSQL.

Each backend supplies three moves: open a journal, reopen it as a restarted process finds
it, and kill its storage underneath (a disk fault for memory, the connection closed under
SQLite's writer, the writer's server process terminated for PostgreSQL). Backend-specific
behaviour (SQLite's file lock and triggers, PostgreSQL's shared database) lives beside each
backend's own tests.
"""

from __future__ import annotations

import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest

from interlock.domain.commands import OrderRequest, ParentOrder
from interlock.domain.enums import HaltScope, OrderType, Side
from interlock.domain.events import (
    Cancelled,
    CancelRequested,
    Event,
    Filled,
    HaltApplied,
    HaltLifted,
    LimitsLoaded,
    OrderDecided,
    ParentDeclared,
    VenueRejected,
)
from interlock.errors import JournalError
from interlock.gateway.gateway import Gateway
from interlock.journal import Journal, MemoryJournal, SqliteJournal
from interlock.journal.postgres import PostgresJournal
from interlock.sim.harness import DESK_KEY, MM_KEY, build

REQUEST = OrderRequest(
    "c1", "acct", "strat", "AAPL", Side.BUY, 100, OrderType.LIMIT, Decimal("10.01")
)
EVERY_KIND: list[Event] = [
    OrderDecided(1, "p", REQUEST, 1, 1001, 1001, "", "", "", "", "d"),
    Filled(2, 1, 40, 1001, "x-1"),
    Cancelled(3, 1, 60, "user"),
    VenueRejected(4, 2, "closed"),
    CancelRequested(5, 1, "p", "flatten"),
    HaltApplied(6, HaltScope.SYMBOL, "AAPL", "runaway", "ops"),
    HaltLifted(7, HaltScope.SYMBOL, "AAPL", "ops"),
    ParentDeclared(8, ParentOrder("par-1", "acct", "AAPL", Side.BUY, 1000)),
    LimitsLoaded(9, "sha256:0", "{}"),
]


def fill(i: int) -> Filled:
    return Filled(ts=i, order_id=i, qty=1, price=100, exec_id=f"x{i}")


@dataclass
class Backend:
    open: Callable[[], Journal]
    reopen: Callable[[Journal], Journal]  # close (if it can) and open the same storage again
    kill: Callable[[Journal], None]  # the storage fails underneath the open journal


def _memory() -> Backend:
    def reopen(j: Journal) -> Journal:
        assert isinstance(j, MemoryJournal)
        j.close()
        return j.reopened()

    def kill(j: Journal) -> None:
        assert isinstance(j, MemoryJournal)
        j.fail(OSError("disk gone"))

    return Backend(MemoryJournal, reopen, kill)


def _sqlite(path: Path) -> Backend:
    def reopen(j: Journal) -> Journal:
        j.close()
        return SqliteJournal(path)

    def kill(j: Journal) -> None:
        assert isinstance(j, SqliteJournal)
        j._conn.close()

    return Backend(lambda: SqliteJournal(path), reopen, kill)


def _postgres(dsn: str) -> Backend:
    instance = f"gw-{uuid.uuid4().hex[:12]}"  # the session's server is shared: own rows only

    def reopen(j: Journal) -> Journal:
        j.close()
        return PostgresJournal(dsn, instance)

    def kill(j: Journal) -> None:
        assert isinstance(j, PostgresJournal)
        pid = j._conn.info.backend_pid
        with psycopg.connect(dsn, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,))

    return Backend(lambda: PostgresJournal(dsn, instance), reopen, kill)


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    opened: list[Journal] = []
    if request.param == "memory":
        made = _memory()
    elif request.param == "sqlite":
        made = _sqlite(tmp_path / "j.db")
    else:
        made = _postgres(request.getfixturevalue("postgres_dsn"))

    def tracked(make: Callable[..., Journal]) -> Callable[..., Journal]:
        def inner(*args: Any) -> Journal:
            j = make(*args)
            opened.append(j)
            return j

        return inner

    yield Backend(tracked(made.open), tracked(made.reopen), made.kill)
    for j in opened:
        j.close()


def test_every_event_kind_reads_back_equal_and_in_seq_order(backend: Backend) -> None:
    journal = backend.open()
    seqs = [journal.append(e) for e in EVERY_KIND]
    assert seqs == list(range(1, len(EVERY_KIND) + 1))
    assert journal.flush(timeout=5) == journal.durable_seq == journal.last_seq == len(EVERY_KIND)
    assert list(journal.read()) == list(zip(seqs, EVERY_KIND, strict=True))
    assert [s for s, _ in journal.read(after_seq=7)] == [8, 9]


def test_callbacks_see_each_commit_in_increasing_order_before_flush_returns(
    backend: Backend,
) -> None:
    journal = backend.open()
    seen: list[int] = []
    journal.on_durable(seen.append)
    for burst in range(1, 8):
        for i in range(burst * 50):
            journal.append(fill(i))
        assert journal.flush(timeout=5) == journal.last_seq
        assert seen[-1] == journal.last_seq  # the release ran before flush returned
    assert seen == sorted(set(seen))
    assert journal.flush(timeout=5) == seen[-1] == 1400  # nothing new: no new callback
    assert len(seen) >= 7


def test_reopen_reads_everything_back_and_continues_the_sequence(backend: Backend) -> None:
    journal = backend.open()
    for i in range(1, 101):
        journal.append(fill(i))
    journal.flush(timeout=5)
    again = backend.reopen(journal)
    assert (again.last_seq, again.durable_seq) == (100, 100)
    assert [e for _, e in again.read()] == [fill(i) for i in range(1, 101)]
    assert again.append(fill(101)) == 101
    again.flush(timeout=5)
    assert [s for s, _ in again.read(99)] == [100, 101]


def test_close_commits_what_is_queued_and_then_refuses_appends(backend: Backend) -> None:
    journal = backend.open()
    journal.append(fill(1))
    journal.close()
    journal.close()
    assert journal.durable_seq == 1
    with pytest.raises(JournalError, match="closed"):
        journal.append(fill(2))
    assert [s for s, _ in backend.reopen(journal).read()] == [1]


def test_a_dead_store_makes_the_journal_unavailable_then_writes_everything_once(
    backend: Backend,
) -> None:
    journal = backend.open()
    seen: list[int] = []
    statuses: list[bool] = []
    journal.on_durable(seen.append)
    journal.on_status(lambda status: statuses.append(status.available))
    journal.append(fill(1))
    journal.flush(timeout=5)
    backend.kill(journal)
    assert journal.append(fill(2)) == 2  # kept in memory while the store is gone
    if isinstance(journal, MemoryJournal):  # it stays down until healed; the others
        with pytest.raises(JournalError, match="failed"):  # reconnect by themselves
            journal.flush(timeout=5)
        journal.heal()
    deadline = time.monotonic() + 10
    while True:  # flush raises while unavailable: wait for the writer's retry
        try:
            journal.flush(timeout=5)
            break
        except JournalError:
            assert time.monotonic() < deadline, "the journal never came back"
            time.sleep(0.01)
    journal.append(fill(3))
    assert journal.flush(timeout=5) == 3 == journal.durable_seq and journal.available
    assert statuses == [False, True] and seen[-1] == 3
    assert list(journal.read()) == [(i, fill(i)) for i in (1, 2, 3)]  # each once, in order
    journal.close()
    assert [s for s, _ in backend.reopen(journal).read()] == [1, 2, 3]


# -- recovery: a gateway rebuilt from each backend ----------------------------------------


def _settle(journal: Journal) -> None:
    """Flush until releases stop appending (a fill from the venue is a new record)."""
    for _ in range(20):
        if journal.flush(timeout=5) == journal.last_seq:
            return
    raise AssertionError(f"journal never settled: {journal.durable_seq} < {journal.last_seq}")


def _state(gw: Gateway) -> dict[str, Any]:
    book = gw.book
    return {
        "positions": gw.positions(),
        "orders": {i: (o.status, o.qty, o.leaves, o.filled) for i, o in book.orders.items()},
        "open": sorted(book.open_orders),
        "parents": {p: (s.open, s.filled) for p, s in book.parents.items()},
        "accounts": {
            n: (a.open_notional, a.executed, a.gross, a.pnl)
            for n, a in book.accounts.items()
            if a.positions
        },
        "halts": sorted((x.scope, x.target, x.reason, x.who) for x in gw.halts.records()),
        "locates": [(x.locate_id, x.account, x.used, x.reserved) for x in gw.locates()],
    }


def test_a_gateway_rebuilt_from_the_journal_has_the_state_it_had(backend: Backend) -> None:
    h = build(journal=backend.open(), depth=100)
    gw = h.gateway
    assert gw.declare_parent(ParentOrder("P1", "desk-7", "AAPL", Side.BUY, 1_000), DESK_KEY) is None
    assert h.submit(parent_id="P1", order_type=OrderType.MARKET, quantity=150).accepted
    _settle(h.journal)
    partial = h.submit(parent_id="P1", quantity=300, limit_price=Decimal("100.01"))
    assert h.gateway.add_locate("L1", "desk-7", "MSFT", 200, 2 * 10**18, "pb", "ops") is None
    assert h.gateway.add_locate("L2", "mm-1", "AAPL", 500, 2 * 10**18, "pb", "ops") is None
    cancelled = h.submit(symbol="MSFT", side=Side.SELL_SHORT, quantity=200)
    _settle(h.journal)
    gw.cancel(cancelled.order_id, DESK_KEY)
    assert h.submit(MM_KEY, account="mm-1", strategy="mm", side=Side.SELL_SHORT, quantity=500,
                    limit_price=Decimal("100.02")).accepted  # fmt: skip
    gw.halt(HaltScope.SYMBOL, "TSLA", "news pending", "ops")
    _settle(h.journal)
    before = _state(gw)
    assert 0 < gw.order(partial.order_id).filled < 300 and before["open"]  # something to rebuild

    h2 = build(journal=backend.reopen(h.journal), depth=100, restart_of=h)  # same venue
    assert _state(h2.gateway) == before
    assert h2.submit(symbol="TSLA").code.name == "HALTED"


def test_two_instances_in_one_postgres_database_never_see_each_others_records(
    postgres_dsn: str,
) -> None:
    a_id, b_id = (f"gw-{uuid.uuid4().hex[:12]}" for _ in range(2))
    a, b = PostgresJournal(postgres_dsn, a_id), PostgresJournal(postgres_dsn, b_id)
    try:
        for i in range(1, 4):
            a.append(fill(i))
        b.append(fill(100))
        a.flush(timeout=5), b.flush(timeout=5)
        assert [e for _, e in a.read()] == [fill(1), fill(2), fill(3)]
        assert list(b.read()) == [(1, fill(100))]  # its own sequence, from one
    finally:
        a.close(), b.close()
    again = PostgresJournal(postgres_dsn, b_id)
    assert again.last_seq == 1 and [e for _, e in again.read()] == [fill(100)]
    again.close()


def _forget_the_index(journal: Journal) -> None:
    """Make the store look as a build from before the order index left it."""
    if isinstance(journal, SqliteJournal):
        with sqlite3.connect(journal._path) as conn:
            conn.execute("DELETE FROM order_index")
            conn.execute("DELETE FROM meta WHERE key = 'order_index_through'")
    elif isinstance(journal, PostgresJournal):
        with psycopg.connect(journal._dsn, autocommit=True) as conn:
            for table in ("interlock_journal_orders", "interlock_journal_indexed"):
                conn.execute(f"DELETE FROM {table} WHERE instance_id = %s", (journal.instance_id,))


def test_order_history_is_every_durable_record_of_one_order_in_order(backend: Backend) -> None:
    journal = backend.open()
    refused = OrderDecided(10, "p", REQUEST, None, 0, 0, "HALTED", "halted", "", "", "d")
    for e in [*EVERY_KIND, refused]:
        journal.append(e)
    journal.flush(timeout=5)
    journal.append(Filled(11, 1, 5, 1001, "x-late"))
    if isinstance(journal, MemoryJournal):  # its durable mark moves only on flush
        assert [s for s, _ in journal.order_history(1)] == [1, 2, 3, 5]
    journal.flush(timeout=5)
    everything = dict(journal.read())
    ones = [s for s, e in everything.items() if getattr(e, "order_id", None) == 1]
    assert [s for s, _ in journal.order_history(1)] == ones
    assert journal.order_history(1) == [(s, everything[s]) for s in ones]
    assert [s for s, _ in journal.order_history(1, before_seq=3)] == [1, 2]
    assert journal.order_history(2) == [(4, EVERY_KIND[3])]
    assert journal.order_history(99) == []
    reopened = backend.reopen(journal)
    assert reopened.order_history(1) == [(s, everything[s]) for s in ones]


def test_a_journal_written_before_the_order_index_is_indexed_when_opened(
    backend: Backend,
) -> None:
    journal = backend.open()
    for e in EVERY_KIND:
        journal.append(e)
    journal.flush(timeout=5)
    _forget_the_index(journal)
    reopened = backend.reopen(journal)
    assert [s for s, _ in reopened.order_history(1)] == [1, 2, 3, 5]
    assert [s for s, _ in reopened.order_history(2)] == [4]
