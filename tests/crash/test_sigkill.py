"""Kill -9 a trading gateway again and again, on both journals; ask the venue what it got.

Two kinds of real process and real TCP between them: the venue is the logged exchange
(`sim/logged_exchange.py`: QuickFIX acceptor in a process of its own, which fsyncs a line
for every order and cancel it receives before it answers), and the child killed is
`load_child.py`, a gateway over the journal under test routing to it through the FIX
adapter, under a seeded random load (bursts, limits and markets, cancels), printing each
ack (acks come only once durable and released). The test reads a seeded random number of
acks, SIGKILLs the child, waits for the venue to log that child's session down (so the
venue's log holds everything the child had sent), and then, in this process, reopens the
journal, folds it into a gateway's book (no venue asked) and checks:

- every acknowledged decision is in the journal at its sequence number, and every
  acknowledged accepted order is in the rebuilt book; no client order id and no order id
  is decided twice; the sequence has no gaps (and the SQLite file is intact, its lock
  died with the child);
- positions (and open reservations) equal the journal's fills, folded here by hand;
- **every order in the venue's log has a durable accepted OrderDecided** with its order
  id, symbol, side and quantity, and no order id reached the venue twice;
- every cancel in the venue's log has a durable CancelRequested for its order (or a halt
  record): cancels go to the venue only once their record is durable;
- the child's book once it had recovered and reconciled with the venue (its READY line,
  with the seq of the last record it then held) is the journal's fold up to that record,
  and the child then took new orders after everything before it (its acks, checked at the
  next kill).

SQLite: one file across all its kills. PostgreSQL: the session's server (`postgres_dsn`),
one instance id across all its kills. Every run continues the same journal, so each child
(and each rebuild here) also recovers every earlier crash. The kills run once per backend
(a module fixture); the tests below judge what each campaign found.
"""

from __future__ import annotations

import fcntl
import random
import sqlite3
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from crash_rig import WAIT_S, Exchange, Zygote

from interlock.domain.enums import Side
from interlock.domain.events import (
    Cancelled,
    CancelRequested,
    Filled,
    HaltApplied,
    OrderDecided,
    VenueRejected,
)
from interlock.errors import JournalError
from interlock.journal.base import Journal
from interlock.journal.postgres import PostgresJournal
from interlock.journal.sqlite import SqliteJournal
from interlock.sim.harness import around_the_clock, build, high_rate

KILLS = {"sqlite": 30, "postgres": 20}  # 50 in all
SEED = 20120801  # Knight's day
FIX_SIDES = {"1": Side.BUY, "2": Side.SELL}


@dataclass
class Campaign:
    """What the kills of one backend found: failures by the property they break."""

    backend: str
    kills: int = 0
    acks: int = 0
    venue_orders: int = 0
    venue_cancels: int = 0
    seconds: float = 0.0
    broken: dict[str, list[str]] = field(default_factory=dict)

    def fail(self, prop: str, message: str) -> None:
        self.broken.setdefault(prop, []).append(message)

    def failures(self, prop: str) -> list[str]:
        return self.broken.get(prop, [])


def fold_positions(events: list[tuple[int, Any]]) -> dict[tuple[str, str], list[int]]:
    """(account, symbol) -> [position, open buys, open sells] from the journal alone."""
    orders: dict[int, list[Any]] = {}  # order id -> [account, symbol, sign, leaves]
    lines: dict[tuple[str, str], list[int]] = {}
    for _, ev in events:
        if isinstance(ev, OrderDecided) and ev.order_id is not None:
            req = ev.request
            orders[ev.order_id] = [req.account, req.symbol, Side(req.side).sign, req.quantity]
            lines.setdefault((req.account, req.symbol), [0, 0, 0])
        elif isinstance(ev, Filled) and ev.order_id in orders:
            o = orders[ev.order_id]
            lines[(o[0], o[1])][0] += o[2] * ev.qty
            o[3] -= min(ev.qty, o[3])
        elif isinstance(ev, Cancelled | VenueRejected) and ev.order_id in orders:
            orders[ev.order_id][3] = 0
    for account, symbol, sign, leaves in orders.values():
        lines[(account, symbol)][1 if sign > 0 else 2] += leaves
    return {k: v for k, v in lines.items() if any(v)}


def lock_is_free(db: str) -> bool:
    with open(db + ".lock", "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False
        fcntl.flock(handle, fcntl.LOCK_UN)
        return True


def check_sqlite_file(db: str, c: Campaign, run: int) -> None:
    """The file after a crash: intact, its lock free, its sequence without gaps."""
    if not lock_is_free(db):
        c.fail("journal", f"run {run}: a SIGKILLed writer left the journal locked")
    conn = sqlite3.connect(db)
    try:
        if conn.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            c.fail("journal", f"run {run}: integrity_check failed")
        count, first, last = conn.execute(
            "SELECT COUNT(*), MIN(seq), MAX(seq) FROM events"
        ).fetchone()
    finally:
        conn.close()
    if (first, last) != (1, count):
        c.fail("journal", f"run {run}: seq {first}..{last} in {count} rows")


def reopen(backend: str, target: str) -> Journal:
    """The journal as the next process finds it. PostgreSQL: once the server has seen the
    killed child's connection go, its writer lock is free (bounded wait)."""
    if backend == "sqlite":
        return SqliteJournal(target, background=False)
    dsn, _, instance_id = target.rpartition("/")
    deadline = time.monotonic() + WAIT_S
    while True:
        try:
            return PostgresJournal(dsn, instance_id=instance_id)
        except JournalError as exc:
            if "in use" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def check_venue(
    entries: list[dict[str, Any]],
    client: str,
    events: list[tuple[int, Any]],
    c: Campaign,
    run: int,
    venue_ids: set[str],
) -> None:
    """What reached the venue from this child has durable records in the journal."""
    accepted = {
        ev.order_id: ev
        for _, ev in events
        if isinstance(ev, OrderDecided) and ev.order_id is not None
    }
    cancels = {ev.order_id for _, ev in events if isinstance(ev, CancelRequested)}
    halted = any(isinstance(ev, HaltApplied) for _, ev in events)
    for e in entries:
        if e["client"] != client:
            continue
        if e["ev"] == "order":
            c.venue_orders += 1
            if e["id"] in venue_ids:
                c.fail("venue_orders", f"run {run}: order id {e['id']} reached the venue twice")
            venue_ids.add(e["id"])
            ev = accepted.get(int(e["id"]))
            if ev is None:
                c.fail(
                    "venue_orders",
                    f"run {run}: venue got order {e['id']} ({e['symbol']} "
                    f"{e['qty']}), the journal has no accepted decision for it",
                )
                continue
            req = ev.request
            want = (req.symbol, Side(req.side), req.quantity)
            got = (e["symbol"], FIX_SIDES.get(e["side"]), int(e["qty"]))
            if want != got:
                c.fail(
                    "venue_orders",
                    f"run {run}: order {e['id']} at the venue is {got}, journaled as {want}",
                )
        elif e["ev"] == "cancel":
            c.venue_cancels += 1
            order_id = int(str(e["orig"]).split("-")[0])
            if order_id not in cancels and not halted:
                c.fail(
                    "venue_cancels",
                    f"run {run}: venue got a cancel of order {order_id}, "
                    "the journal has no CancelRequested (or halt) for it",
                )


def check_run(
    backend: str,
    target: str,
    client: str,
    entries: list[dict[str, Any]],
    acks: list[list[str]],
    c: Campaign,
    run: int,
    venue_ids: set[str],
    recovered: dict[str, Any],
) -> None:
    """Every check after one kill."""
    if backend == "sqlite":
        check_sqlite_file(target, c, run)
    journal = reopen(backend, target)
    events = list(journal.read())
    last_seq = events[-1][0] if events else 0
    if [seq for seq, _ in events] != list(range(1, last_seq + 1)):
        c.fail("journal", f"run {run}: the sequence has gaps (last {last_seq})")
    decided = {seq: ev for seq, ev in events if isinstance(ev, OrderDecided)}
    cids = [ev.request.client_order_id for ev in decided.values() if ev.request is not None]
    ids = [ev.order_id for ev in decided.values() if ev.order_id is not None]
    if len(set(cids)) != len(cids) or len(set(ids)) != len(ids):
        c.fail("journal", f"run {run}: a client order id or order id is decided twice")
    # the book as the journal folds it: no venue asked here (a simulated one would not know
    # the orders working at the exchange, and reconciling against it would journal lies)
    h = build(high_rate(around_the_clock()), journal=journal, clock=time.time_ns, start=False)
    h.gateway.state.fold(journal)
    for order_id, cid, seq in acks:
        ev = decided.get(int(seq))
        if ev is None or ev.request is None or ev.request.client_order_id != cid:
            c.fail("acked", f"run {run}: acked decision seq {seq} ({cid}) not journaled there")
        elif order_id == "REJ" and ev.order_id is not None:
            c.fail("acked", f"run {run}: {cid} acked rejected, journaled accepted")
        elif order_id != "REJ" and (
            ev.order_id != int(order_id) or int(order_id) not in h.gateway.book.orders
        ):
            c.fail("acked", f"run {run}: lost acked order {cid} ({order_id})")
    book = {(a, s): [p, b, o] for a, s, p, b, o in h.gateway.positions()}
    if book != fold_positions(events):
        c.fail("book", f"run {run}: the rebuilt book differs from the journal's fills")
    check_venue(entries, client, events, c, run, venue_ids)
    check_recovered(recovered, events, c, run)

    journal.close()


def check_recovered(recovered: dict[str, Any], events: list[tuple[int, Any]], c: Campaign,
                    run: int) -> None:  # fmt: skip
    """The child's book once recovered and reconciled with the venue is the journal's fold
    up to the record it had then (reconciliation's closes and missed fills included)."""
    upto = [(seq, ev) for seq, ev in events if seq <= recovered["seq"]]
    book = {(a, s): [p, b, o] for a, s, p, b, o in recovered["positions"]}
    if book != fold_positions(upto):
        c.fail("book", f"run {run}: the child recovered a book its journal does not fold to")


def run_campaign(backend: str, target: str, root: Path) -> Campaign:
    c = Campaign(backend)
    started = time.monotonic()
    clients = [f"{backend[:2].upper()}{run}" for run in range(KILLS[backend])]
    exchange = Exchange(root, clients)
    zygote = Zygote(root)
    rng = random.Random(SEED + len(backend))
    venue_ids: set[str] = set()
    seen: list[dict[str, Any]] = []
    try:
        for run, client in enumerate(clients):
            args = [backend, target, client, exchange.port, SEED + run, str(root / client)]
            recovered, acks = zygote.run_until_killed(args, rng.randint(5, 200))
            c.kills += 1
            c.acks += len(acks)
            seen = exchange.session_down(client, seen + exchange.log.new_entries())
            check_run(backend, target, client, seen, acks, c, run, venue_ids, recovered)
            seen = [e for e in seen if e["client"] != client]
    finally:
        zygote.close()
        exchange.close()
    c.seconds = time.monotonic() - started
    return c


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def campaign(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Campaign]:
    backend: str = request.param
    root = tmp_path_factory.mktemp(f"crash-{backend}")
    if backend == "sqlite":
        target = str(root / "journal.db")
    else:
        dsn: str = request.getfixturevalue("postgres_dsn")
        target = f"{dsn}/crash-{uuid.uuid4().hex[:8]}"
    c = run_campaign(backend, target, root)
    print(
        f"\n{backend}: {c.kills} kills, {c.acks} acks, {c.venue_orders} orders and "
        f"{c.venue_cancels} cancels at the venue, {c.seconds:.1f} s; failures: "
        + (", ".join(f"{k} {len(v)}" for k, v in sorted(c.broken.items())) or "none")
    )
    yield c


def _say(failures: list[str]) -> str:
    return f"{len(failures)} failures, first: " + "; ".join(failures[:5])


@pytest.mark.slow
def test_sigkill_loses_no_acknowledged_order(campaign: Campaign) -> None:
    assert campaign.kills == KILLS[campaign.backend]
    assert campaign.acks >= 5 * campaign.kills
    for prop in ("acked", "journal", "book"):
        assert not campaign.failures(prop), _say(campaign.failures(prop))


@pytest.mark.slow
def test_sigkill_no_order_reached_the_venue_without_a_durable_decision(campaign: Campaign) -> None:
    assert campaign.venue_orders >= campaign.kills  # the venue checks looked at something
    assert campaign.venue_cancels >= campaign.kills
    assert not campaign.failures("venue_orders"), _say(campaign.failures("venue_orders"))


@pytest.mark.slow
def test_sigkill_no_cancel_reached_the_venue_without_a_durable_record(campaign: Campaign) -> None:
    assert not campaign.failures("venue_cancels"), _say(campaign.failures("venue_cancels"))
