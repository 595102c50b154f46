"""Kill -9 a trading gateway again and again; nothing it acknowledged may be lost.

A child process runs a gateway over a SQLite journal (background group commit, the real
clock) and submits orders in a loop while its simulated venue fills some of them. Each ack
(called only once the decision is durable) is printed on stdout. The test reads a seeded
random number of acks, SIGKILLs the child, and then, in this process, reopens the same
file, rebuilds a gateway and checks:

- every acknowledged decision is in the journal at its sequence number, and every
  acknowledged accepted order is in the rebuilt book;
- positions (and open reservations) equal the journal's fills, folded here by hand;
- the file is intact, its sequence has no gaps, and the lock died with the child;
- a new order is accepted and journaled after everything before it.

Every run continues on the same file, so each child (and each rebuild here) also recovers
every earlier crash.
"""

from __future__ import annotations

import fcntl
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from interlock.domain.enums import Side
from interlock.domain.events import Cancelled, Filled, OrderDecided, VenueRejected
from interlock.errors import JournalError
from interlock.journal.sqlite import SqliteJournal
from interlock.sim.harness import DESK_KEY, around_the_clock, build, high_rate

KILLS = 30
SEED = 20120801  # Knight's day
CHILD_CODE = r"""
import json, random, sys, time
from interlock.domain.commands import OrderRequest
from interlock.domain.enums import OrderType, Side, TimeInForce
from interlock.journal.sqlite import SqliteJournal
from interlock.sim.harness import DESK_KEY, MM_KEY, around_the_clock, build, high_rate

db, seed = sys.argv[1], int(sys.argv[2])
rng = random.Random(seed)
h = build(high_rate(around_the_clock()), journal=SqliteJournal(db), clock=time.time_ns, seed=seed,
          volatility_ticks=1)  # the wall clock, at any hour: the 24/7 calendar
gw = h.gateway
print("READY", json.dumps([list(p) for p in gw.positions()]), flush=True)

import threading
printing = threading.Lock()  # acks come from two threads: refusals on the journal writer,
                             # accepted orders on the release loop; one line at a time

def acker(cid):
    def on_ack(d):
        with printing:
            print("ACK", d.order_id if d.accepted else "REJ", cid, d.seq, flush=True)
    return on_ack

n = 0
while True:
    for _ in range(rng.choice([1, 1, 1, 5, 40])):  # now and then a burst
        n += 1
        account, key, strategy = rng.choice(
            [("desk-7", DESK_KEY, "vwap"), ("mm-1", MM_KEY, "mm")])
        symbol = rng.choice(["AAPL", "MSFT", "TSLA"])
        market = rng.random() < 0.1
        price = None if market else h.gateway.instruments[symbol].to_price(
            h.market.mid(symbol) + rng.randint(-3, 3))
        cid = f"s{seed}-{n}"
        request = OrderRequest(
            cid, account, strategy, symbol, rng.choice([Side.BUY, Side.SELL]),
            rng.randint(1, 300), OrderType.MARKET if market else OrderType.LIMIT, price,
            rng.choice([TimeInForce.DAY, TimeInForce.IOC]))
        gw.submit(request, key, acker(cid))
    if n % 8 == 0:
        h.market.step()  # resting orders fill as the touch moves through them
        h.refresh_references()
        gw.heartbeat()
    time.sleep(rng.choice([0, 0.0002, 0.001]))
"""


def lock_is_free(db: str) -> bool:
    with open(db + ".lock", "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False
        fcntl.flock(handle, fcntl.LOCK_UN)
        return True


def run_child_until_killed(
    db: str, seed: int, acks_wanted: int, log: Path
) -> tuple[Any, list[list[str]]]:
    """Start a child, read its READY line and `acks_wanted` acks, then SIGKILL it."""
    with open(log, "ab") as err:
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD_CODE, db, str(seed)],
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
        )
    watchdog = threading.Timer(30, child.kill)  # a hung child must not hang the suite
    watchdog.start()
    try:
        ready = child.stdout.readline().split(maxsplit=1)  # type: ignore[union-attr]
        assert ready and ready[0] == "READY", f"child did not start: {log.read_text()[-2000:]}"
        with pytest.raises(JournalError, match="in use"):  # the child holds the journal
            SqliteJournal(db, background=False)
        acks: list[list[str]] = []
        while len(acks) < acks_wanted:
            line = child.stdout.readline()  # type: ignore[union-attr]
            assert line, f"child died on its own: {log.read_text()[-2000:]}"
            if line.startswith("ACK "):
                acks.append(line.split()[1:])
    finally:
        watchdog.cancel()
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
        child.stdout.close()  # type: ignore[union-attr]
    assert child.returncode == -signal.SIGKILL
    return json.loads(ready[1]), acks


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


def check_file(db: str) -> int:
    """The file after a crash: intact, and its sequence has no gaps. Returns the last seq."""
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        count, first, last = conn.execute(
            "SELECT COUNT(*), MIN(seq), MAX(seq) FROM events"
        ).fetchone()
    finally:
        conn.close()
    assert (first, last) == (1, count)
    return int(last)


@pytest.mark.slow
def test_sigkill_loses_no_acknowledged_order(tmp_path: Path) -> None:
    db = str(tmp_path / "journal.db")
    log = tmp_path / "children.log"
    rng = random.Random(SEED)
    expected_positions: list[list[Any]] = []  # what the next child must recover
    total_acks = 0
    for run in range(KILLS):
        recovered, acks = run_child_until_killed(db, SEED + run, rng.randint(5, 200), log)
        assert recovered == expected_positions, f"run {run}: the child recovered another book"
        total_acks += len(acks)

        assert lock_is_free(db), "a SIGKILLed writer must not leave the journal locked"
        last_seq = check_file(db)
        journal = SqliteJournal(db, background=False)
        events = list(journal.read())
        assert [seq for seq, _ in events] == list(range(1, last_seq + 1))
        decided = {seq: ev for seq, ev in events if isinstance(ev, OrderDecided)}
        h = build(high_rate(around_the_clock()), journal=journal, clock=time.time_ns)
        for order_id, cid, seq in acks:
            ev = decided.get(int(seq))
            assert ev is not None, f"run {run}: acked decision seq {seq} ({cid}) not journaled"
            assert ev.request is not None and ev.request.client_order_id == cid
            if order_id == "REJ":
                assert ev.order_id is None
            else:
                assert ev.order_id == int(order_id)
                assert int(order_id) in h.gateway.book.orders, f"run {run}: lost order {cid}"

        book = {(a, s): [p, b, o] for a, s, p, b, o in h.gateway.positions()}
        events = list(journal.read())  # with what the start's reconciliation journaled
        assert book == fold_positions(events), f"run {run}: book differs from the journal"

        # the file takes new decisions after everything before it
        price = h.gateway.instruments["SPY"].to_price(h.market.mid("SPY") - run - 1)
        after = h.submit(DESK_KEY, client_order_id=f"parent-{run}", symbol="SPY",
                         quantity=1, limit_price=price)  # fmt: skip
        assert after.accepted, after.message
        assert after.seq > last_seq
        assert isinstance(dict(journal.read(after.seq - 1))[after.seq], OrderDecided)
        # the next child's simulated venue is its own and never had these orders: its
        # reconciliation closes every open one (positions stay, reservations go)
        expected_positions = [[a, s, p, 0, 0] for a, s, p, _, _ in h.gateway.positions() if p]
        h.gateway.close()

    assert total_acks >= 5 * KILLS
