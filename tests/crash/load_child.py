"""The processes test_sigkill.py kills: a gateway under a bounded random load, over FIX.

    python load_child.py zygote

imports everything once and then, for each JSON line on its standard input,
`["sqlite", PATH, COMP_ID, PORT, SEED, WORK_DIR]` or `["postgres", "DSN/ID", ...]`, forks
a child, prints `PID <pid>`, and once that child is gone prints `EXIT <status>`
(`os.waitstatus_to_exitcode`: -9 for a SIGKILL). Forking a warm process is what makes 50
kills fit in the time: a cold start of Python, QuickFIX and the gateway's imports takes
1.5-3 s here. The zygote starts no thread and opens nothing before it forks; each child
opens its journal, its FIX session and its threads itself, as a fresh process would.

Each child recovers a gateway from the journal under test (the SQLite file, or the PostgreSQL
instance `ID` at `DSN`), routes through the FIX adapter (`venue/fix.py`, real QuickFIX
over TCP) as `COMP_ID` to the logged exchange on 127.0.0.1:`PORT`, prints `READY` and
the positions it recovered, then submits orders in seeded random bursts (limits and
markets, DAY and IOC, two accounts) and cancels some of its own working orders. Each ack,
which comes only once the decision is durable and, if accepted, released to the venue,
is printed as `ACK <order id | REJ> <client order id> <seq>`. It runs until killed;
`MAX_ORDERS` bounds it if nobody does.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
import traceback
from collections import deque
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from interlock.api.config import ServeConfig
from interlock.control.embedded import EmbeddedControlPlane
from interlock.domain.commands import OrderRequest
from interlock.domain.decision import Decision
from interlock.domain.enums import OrderType, Side, TimeInForce
from interlock.instance import build_instance
from interlock.journal.base import Journal
from interlock.journal.postgres import PostgresJournal
from interlock.journal.sqlite import SqliteJournal
from interlock.sim.harness import DESK_KEY, MM_KEY, around_the_clock, high_rate
from interlock.sim.procs import die_with_parent
from interlock.venue.fix import FixVenue

MAX_ORDERS = 20_000
SYMBOLS = ("AAPL", "MSFT", "TSLA")  # the logged exchange's, all at 100.00
MID = Decimal("100.00")
ACCOUNTS = (("desk-7", DESK_KEY, "vwap"), ("mm-1", MM_KEY, "mm"))


def say(*parts: object) -> None:
    """One line on stdout in one write(2): a pipe takes it whole or not at all, so a kill
    can never leave half an ack (print may split a line into several writes)."""
    os.write(1, (" ".join(map(str, parts)) + "\n").encode())


def open_journal(backend: str, target: str) -> Journal:
    if backend == "sqlite":
        return SqliteJournal(target)
    dsn, _, instance_id = target.rpartition("/")
    return PostgresJournal(dsn, instance_id=instance_id)


def zygote() -> None:
    """Fork one child per line of stdin, one at a time; report its pid and its end."""
    config = high_rate(around_the_clock())  # parsed once, before any fork
    for line in sys.stdin:
        args = json.loads(line)
        sys.stdout.flush()
        pid = os.fork()
        if pid == 0:
            die_with_parent()
            code = 0
            try:
                run(config, *args)
            except BaseException:
                traceback.print_exc()
                code = 1
            finally:
                sys.stdout.flush()
                os._exit(code)
        print("PID", pid, flush=True)
        _, status = os.waitpid(pid, 0)
        print("\nEXIT", os.waitstatus_to_exitcode(status), flush=True)  # on a line of its own


def run(
    config: ServeConfig,
    backend: str,
    target: str,
    comp_id: str,
    port: int,
    seed: int,
    work_dir: str,
) -> None:
    rng = random.Random(seed)
    instruments = config.instrument_map()
    venue = FixVenue(
        port=port,
        work_dir=Path(work_dir),
        comp_id=comp_id,
        file_log=False,
        heartbeat_s=5,
        store_dir=Path(work_dir) / "store",
        instruments=instruments,
    )
    gw = build_instance(
        config,
        journal=open_journal(backend, target),
        venue=venue,
        plane=EmbeddedControlPlane(clock=time.time_ns),
        clock=time.time_ns,
        start=False,
    )
    gw.start(reconcile_in_background=True)  # as serve: it waits for the venue's Logon
    venue.start(timeout=15)
    report = gw.wait_reconciled(20)
    if report is None or report.error:
        say("UNRECONCILED", report.error if report is not None else "timed out")
        return
    mid = {s: instruments[s].to_ticks(MID) or 10_000 for s in SYMBOLS}

    def refresh() -> None:
        for symbol, ticks in mid.items():
            gw.update_reference(symbol, ticks)
        gw.heartbeat()

    refresh()
    while True:  # the book and the seq of the last record it holds, consistently
        seq = gw.journal.last_seq
        positions = [list(p) for p in gw.positions()]
        if gw.journal.last_seq == seq:
            break
    gw.journal.flush(15)  # what recovery and reconciliation journaled is durable
    say("READY", json.dumps({"seq": seq, "positions": positions}))
    working: deque[tuple[int, str]] = deque(maxlen=500)  # (order id, key): cancel candidates

    def acker(cid: str, key: str) -> Callable[[Decision], None]:
        def on_ack(d: Decision) -> None:  # on the journal's writer thread
            if d.accepted and d.order_id is not None:
                working.append((d.order_id, key))
            say("ACK", d.order_id if d.accepted else "REJ", cid, d.seq)

        return on_ack

    n = 0
    while n < MAX_ORDERS:
        for _ in range(rng.choice([1, 1, 1, 5, 40])):  # now and then a burst
            n += 1
            account, key, strategy = rng.choice(ACCOUNTS)
            symbol = rng.choice(SYMBOLS)
            market = rng.random() < 0.1
            price = (
                None if market else instruments[symbol].to_price(mid[symbol] + rng.randint(-3, 3))
            )
            cid = f"s{seed}-{n}"
            request = OrderRequest(
                cid,
                account,
                strategy,
                symbol,
                rng.choice([Side.BUY, Side.SELL]),
                rng.randint(1, 300),
                OrderType.MARKET if market else OrderType.LIMIT,
                price,
                rng.choice([TimeInForce.DAY, TimeInForce.DAY, TimeInForce.IOC]),
            )
            gw.submit(request, key, acker(cid, key))
        for _ in range(rng.choice([0, 0, 1, 3])):  # cancel some of our working orders
            if working:
                order_id, key = working[rng.randrange(len(working))]
                gw.cancel(order_id, key)
        if n % 8 == 0:
            refresh()
        time.sleep(rng.choice([0, 0.0002, 0.001]))
    say("DONE")


if __name__ == "__main__":
    assert sys.argv[1:] == ["zygote"], __doc__
    zygote()
