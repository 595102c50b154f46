"""Journal benchmark (issue 12): durable orders/s and ack latency through a real Gateway over
each durable journal, SQLite and PostgreSQL, with each database's raw write rate beside it.

For each backend, the same orders (hotpath.py's mix: 500 symbols, ~10% rejected) go through
`Gateway.submit` on the simulated venue (its fills are journaled too):

- `<backend>_durable_per_s`: a flood, pipelined as fast as submit allows, `--orders` of them,
  timed until the last one is durable and released (`flush`).
- `<backend>_ack_p50_ms` / `_ack_p99_ms`: a sustained, bounded load: `--seconds` at that
  backend's target rate (`--sqlite-rate`, `--postgres-rate`), in 1 ms bursts, each order
  timed from submit to its ack callback (which fires after its record is durable and the
  order released to the venue).
- `<backend>_half_flood_ack_p50_ms` / `_p99_ms`: the same at half the flood's measured rate,
  a load this machine sustains now (on a slow or busy machine the target rate only
  measures the queue).
- `<backend>_journal_only_records_per_s`: the journal alone, no Gateway: the flood's kind of
  records appended back to back until durable.
- `<backend>_raw_rows_per_s`: the peer baseline, the same database's own rate: the same
  encoded records written in the batch shape the flood's writer used (mean batch size),
  one transaction per batch (SQLite `executemany` in WAL with `synchronous=FULL`; PostgreSQL
  one `COPY` per batch), no Gateway, no encoding. `<backend>_journal_only_of_raw` is the
  journal's share of it.
- `memory_durable_per_s`: the flood over MemoryJournal (no I/O), the Gateway's own ceiling
  on this machine now; `<backend>_of_memory` is each journal's share of it.

PostgreSQL is a throwaway server started here (sim/postgres_cluster.py: initdb into a temp
dir, loopback) unless `--dsn` is given; its journal runs as a fresh instance id each run.

    python bench/journal.py [--orders 100000] [--seconds 2] [--dsn DSN] [--json PATH]

Targets (issue 12): PostgreSQL on loopback >= 30k orders/s with ack p99 <= 5 ms; SQLite
keeps >= 100k/s.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
from rich.console import Console
from rich.table import Table

from hotpath import CountingVenue, _acker, bench_config, floor_ns, fresh_references, make_orders
from interlock.domain.commands import OrderRequest
from interlock.domain.events import Event
from interlock.journal.base import Journal
from interlock.journal.codec import encode
from interlock.journal.memory import MemoryJournal
from interlock.journal.postgres import TABLE, PostgresJournal
from interlock.journal.sqlite import SqliteJournal
from interlock.sim.harness import Harness, build
from interlock.sim.postgres_cluster import PostgresCluster

Orders = list[tuple[OrderRequest, str]]
JournalFactory = Callable[[str], Journal]
TARGETS: dict[str, tuple[str, float]] = {
    "sqlite_durable_per_s": (">=", 100_000),
    "postgres_durable_per_s": (">=", 30_000),
    "postgres_ack_p99_ms": ("<=", 5.0),
}
KEYS = ("sqlite_durable_per_s", "postgres_durable_per_s", "sqlite_ack_p99_ms",
        "postgres_ack_p99_ms")  # fmt: skip
"""The four keys the issue names: every run writes them."""


VENUE = ["simulated"]  # --venue: "counting" swaps in hotpath.py's CountingVenue


def _harness(journal: Journal | None = None) -> Harness:
    """A started gateway over `journal` on the wall clock, references fresh, heartbeat on."""
    h = build(bench_config(), journal=journal, clock=time.time_ns, depth=1_000_000)
    if VENUE[0] == "counting":
        h.gateway.venue = CountingVenue()
    h.gateway.start_heartbeat()
    fresh_references(h)
    return h


def flood(orders: Orders, journal: Journal) -> dict[str, float]:
    """Every order submitted back to back; orders/s until the last is durable and released,
    and the writer's mean batch (its commits counted by an `on_durable` callback)."""
    h = _harness(journal)
    commits = [0]
    journal.on_durable(lambda _seq: commits.__setitem__(0, commits[0] + 1))
    submit = h.gateway.submit
    before = journal.last_seq
    gc.collect()
    gc.freeze()  # as a service does after start-up
    t0 = time.perf_counter()
    for req, key in orders:
        submit(req, key)
    journal.flush(120)
    elapsed = time.perf_counter() - t0
    records = journal.last_seq - before
    h.gateway.close()
    gc.unfreeze()
    return {"durable_per_s": len(orders) / elapsed, "records": records,
            "mean_batch": records / max(commits[0], 1)}  # fmt: skip


def paced(orders: Orders, journal: Journal, rate: int, seconds: float) -> dict[str, float]:
    """`rate` orders/s in 1 ms bursts for `seconds` (bounded by the orders given); submit to
    ack latency of each accepted order, and the rate actually offered."""
    pc = time.perf_counter_ns
    h = _harness(journal)
    m = min(len(orders), int(rate * seconds))
    acks, sent = [0] * m, [0] * m
    callbacks = [_acker(acks, i) for i in range(m)]
    submit = h.gateway.submit
    gc.collect()
    gc.freeze()
    burst = max(1, rate // 1000)
    start = pc()
    for b in range(0, m, burst):
        wait = start + (b // burst) * 1_000_000 - pc()
        if wait > 0:  # sleep, never spin: a spinning producer would hold the GIL
            time.sleep(wait / 1e9)
        for i in range(b, min(b + burst, m)):
            req, key = orders[i]
            sent[i] = pc()
            submit(req, key, callbacks[i])
    offered_s = (pc() - start) / 1e9
    journal.flush(120)
    h.gateway.close()
    gc.unfreeze()
    lat = sorted(acks[i] - sent[i] for i in range(m) if acks[i])
    if not lat:
        raise SystemExit("no order was acknowledged in the paced run")
    return {
        "paced_rate_per_s": rate,
        "offered_per_s": m / offered_s,
        "ack_p50_ms": lat[len(lat) // 2] / 1e6,
        "ack_p99_ms": lat[min(len(lat) - 1, int(len(lat) * 0.99))] / 1e6,
        "ack_max_ms": lat[-1] / 1e6,
        "acked": len(lat),
    }


def _events(orders: Orders, n: int) -> list[Event]:
    """`n` records like the flood's (decisions and fills), journaled in memory first."""
    h = _harness()
    for req, key in orders[: min(n, len(orders))]:
        h.gateway.submit(req, key)
    h.journal.flush()
    events = [e for _, e in h.journal.read()]
    h.gateway.close()
    return [events[i % len(events)] for i in range(n)]


def journal_only(journal: Journal, events: list[Event]) -> float:
    """Records/s of the journal alone, no Gateway: `events` appended back to back, until
    the last is durable (the writer encodes and commits them in its own batches)."""
    append = journal.append
    t0 = time.perf_counter()
    for event in events:
        append(event)
    journal.flush(120)
    elapsed = time.perf_counter() - t0
    journal.close()
    return len(events) / elapsed


def _batches(n: int, size: int) -> Iterator[range]:
    for start in range(0, n, size):
        yield range(start, min(n, start + size))


def raw_sqlite(path: Path, rows: list[tuple[str, bytes, int]], batch: int) -> float:
    """Rows/s of plain `executemany` INSERTs, one transaction per batch, WAL, FULL sync:
    SQLite's own rate with the journal's durability and batch shape."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute(
        "CREATE TABLE events"
        " (seq INTEGER PRIMARY KEY, ts INTEGER, kind TEXT, body BLOB, crc INTEGER)"
    )
    t0 = time.perf_counter()
    for part in _batches(len(rows), batch):  # the journal's row shape; no checksum computed
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO events VALUES (?, ?, ?, ?, ?)",
            ((i + 1, rows[i][2], rows[i][0], rows[i][1], i) for i in part),
        )
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - t0
    conn.close()
    return len(rows) / elapsed


def raw_postgres(dsn: str, rows: list[tuple[str, bytes, int]], batch: int) -> float:
    """Rows/s of plain `COPY ... FROM STDIN`, one transaction per batch, into the journal's
    own table (a fresh instance id): the server's rate with the journal's batch shape."""
    instance = f"bench-raw-{uuid.uuid4().hex[:8]}"
    PostgresJournal(dsn, instance).close()  # the table, as the journal creates it
    with psycopg.connect(dsn) as conn:
        t0 = time.perf_counter()
        for part in _batches(len(rows), batch):
            with conn.transaction(), conn.cursor() as cur:
                sql = f"COPY {TABLE} (instance_id, seq, kind, payload, ts, crc) FROM STDIN"
                with cur.copy(sql) as copy:  # the journal's row shape; no checksum computed
                    for i in part:
                        kind, body, ts = rows[i]
                        copy.write_row((instance, i + 1, kind, body, ts, i))
        elapsed = time.perf_counter() - t0
    return len(rows) / elapsed


def bench_backend(name: str, journal: JournalFactory, orders: Orders, rate: int,
                  seconds: float, raw: Callable[[list[tuple[str, bytes, int]], int], float],
                  ) -> dict[str, Any]:  # fmt: skip
    """One backend's figures, prefixed with its name. Besides the paced run at the target
    rate, one at half the flood's measured rate: the latency of a load this machine can
    sustain now (at the target rate a slower machine only measures its queue)."""
    out: dict[str, Any] = {}
    f = flood(orders, journal("flood"))
    p = paced(orders, journal("paced"), rate, seconds)
    half = paced(orders, journal("half"), max(1_000, int(f["durable_per_s"] / 2)), seconds)
    batch = max(1, round(f["mean_batch"]))
    events = _events(orders, min(len(orders), 50_000))
    alone = journal_only(journal("alone"), events)
    raw_rate = raw([(*encode(e), e.ts) for e in events], batch)
    extra = {"journal_only_records_per_s": alone, "raw_rows_per_s": raw_rate}
    for key, value in {**f, **p, **extra}.items():
        out[f"{name}_{key}"] = value
    for key in ("paced_rate_per_s", "ack_p50_ms", "ack_p99_ms"):
        out[f"{name}_half_flood_{key}"] = half[key]
    out[f"{name}_journal_only_of_raw"] = alone / raw_rate
    return out


def memory_ceiling(orders: Orders) -> float:
    """The same flood over MemoryJournal (no I/O, committed in `flush`): what the Gateway
    and the simulated venue alone allow on this machine now, the ceiling of both figures."""
    journal = MemoryJournal()
    h = _harness(journal)
    submit = h.gateway.submit
    gc.collect()
    gc.freeze()
    t0 = time.perf_counter()
    for start in range(0, len(orders), 1_000):
        for req, key in orders[start : start + 1_000]:
            submit(req, key)
        journal.flush()  # the release (and the venue's fills), as a writer would
    elapsed = time.perf_counter() - t0
    h.gateway.close()
    gc.unfreeze()
    return len(orders) / elapsed


def bench_sqlite(mix: Orders, rate: int, seconds: float, tmp: Path) -> dict[str, Any]:
    return bench_backend(
        "sqlite",
        lambda tag: SqliteJournal(tmp / f"{tag}.db"),
        mix,
        rate,
        seconds,
        lambda rows, batch: raw_sqlite(tmp / "raw.db", rows, batch),
    )


def bench_postgres(mix: Orders, rate: int, seconds: float, dsn: str) -> dict[str, Any]:
    run_id = uuid.uuid4().hex[:8]  # fresh instance ids: a --dsn database may hold others
    return bench_backend(
        "postgres",
        lambda tag: PostgresJournal(dsn, f"bench-{run_id}-{tag}"),
        mix,
        rate,
        seconds,
        lambda rows, batch: raw_postgres(dsn, rows, batch),
    )


def run(orders: int, seconds: float, sqlite_rate: int, postgres_rate: int,
        dsn: str | None, only: str | None = None) -> dict[str, Any]:  # fmt: skip
    mix = make_orders(orders)
    result: dict[str, Any] = {"orders": orders, "seconds": seconds, "venue": VENUE[0]}
    result["floor_ns"] = floor_ns(1_000_000)
    result["memory_durable_per_s"] = memory_ceiling(mix)
    with contextlib.ExitStack() as stack:
        if only != "postgres":
            tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-jr-")))
            result.update(bench_sqlite(mix, sqlite_rate, seconds, tmp))
        if only != "sqlite":
            result["postgres_server"] = "--dsn" if dsn else "throwaway, 127.0.0.1"
            if dsn is None:
                dsn = stack.enter_context(PostgresCluster()).dsn
            result.update(bench_postgres(mix, postgres_rate, seconds, dsn))
    for backend in ("sqlite", "postgres"):
        if f"{backend}_durable_per_s" in result:
            share = result[f"{backend}_durable_per_s"] / result["memory_durable_per_s"]
            result[f"{backend}_of_memory"] = share
    return result


def show(result: dict[str, Any]) -> None:
    table = Table(
        title=f"Interlock journals ({result['orders']:,} orders, {result['venue']} venue)"
    )
    for col in ("metric", "value", "target", "met"):
        table.add_column(col)
    for key, value in result.items():
        t = TARGETS.get(key)
        met = "" if t is None else ("yes" if (value <= t[1] if t[0] == "<=" else value >= t[1])
                                    else "NO")  # fmt: skip
        shown = f"{value:,.3f}" if isinstance(value, float) else f"{value:,}" \
            if isinstance(value, int) else str(value)  # fmt: skip
        table.add_row(key, shown, "" if t is None else f"{t[0]} {t[1]:,}", met)
    Console().print(table)


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--orders", type=int, default=100_000, help="orders in the flood")
    ap.add_argument("--seconds", type=float, default=2.0, help="length of each paced run")
    ap.add_argument("--sqlite-rate", type=int, default=100_000, help="paced orders/s, SQLite")
    ap.add_argument("--postgres-rate", type=int, default=30_000,
                    help="paced orders/s, PostgreSQL")  # fmt: skip
    ap.add_argument("--dsn", default=None, help="an existing PostgreSQL (default: a throwaway)")
    ap.add_argument("--venue", choices=["simulated", "counting"], default="simulated",
                    help="simulated: the matching engine, its fills journaled; counting: a "
                    "venue that only counts (hotpath.py's): the journal's own figures")  # fmt: skip
    ap.add_argument(
        "--only",
        choices=["sqlite", "postgres"],
        default=None,
        help="one backend (for profiling); the JSON then lacks the other's keys",
    )
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    VENUE[0] = args.venue
    result = run(args.orders, args.seconds, args.sqlite_rate, args.postgres_rate, args.dsn,
                 args.only)  # fmt: skip
    show(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    if args.only is None and any(not result.get(k) for k in KEYS):
        sys.exit(1)


if __name__ == "__main__":
    main()
