"""Journal cost on the order path: append per event, lone-caller latency, durable rate.

    python bench/journal_append.py [--events 200000] [--json PATH]

`append` is timed with no writer running (background=False) and with the writer
committing concurrently (under the GIL its encoding competes with the appender).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from interlock.domain.commands import OrderRequest
from interlock.domain.enums import OrderType, Side
from interlock.domain.events import OrderDecided
from interlock.journal import SqliteJournal

EVENT = OrderDecided(
    ts=1, principal="p", order_id=1, price=1001, value_ticks=1001, code="", reason="",
    limit="", attempted="", limits_digest="d",
    request=OrderRequest("c1", "acct", "strat", "AAPL", Side.BUY, 100, OrderType.LIMIT,
                         Decimal("10.01")),
)  # fmt: skip


def append_ns(path: Path, events: int, background: bool) -> float:
    journal = SqliteJournal(path, background=background)
    append = journal.append
    start = time.perf_counter()
    for _ in range(events):
        append(EVENT)
    elapsed = time.perf_counter() - start
    journal.flush()  # raises if the journal failed, so a broken run can't report
    journal.close()
    return elapsed / events * 1e9


def durable(path: Path, events: int) -> dict[str, float]:
    journal = SqliteJournal(path)
    commits: list[int] = []
    journal.on_durable(commits.append)
    start = time.perf_counter()
    for _ in range(events):
        journal.append(EVENT)
    journal.flush()
    elapsed = time.perf_counter() - start
    journal.close()
    return {"events_per_s": events / elapsed, "commits": len(commits),
            "mean_batch": events / len(commits)}  # fmt: skip


def lone_latency_us(path: Path, rounds: int = 500) -> tuple[float, float]:
    journal = SqliteJournal(path)
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        journal.append(EVENT)
        journal.flush()
        samples.append((time.perf_counter() - start) * 1e6)
    journal.close()
    samples.sort()
    return statistics.median(samples), samples[int(rounds * 0.99) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        rate = durable(d / "d.db", args.events)
        p50, p99 = lone_latency_us(d / "l.db")
        result = {
            "events": args.events,
            "append_ns_no_writer": append_ns(d / "a.db", args.events, background=False),
            "append_ns_with_writer": append_ns(d / "b.db", args.events, background=True),
            "durable_events_per_s": rate["events_per_s"],
            "commits": rate["commits"],
            "mean_batch": rate["mean_batch"],
            "lone_append_flush_p50_us": p50,
            "lone_append_flush_p99_us": p99,
        }
    width = max(map(len, result))
    for name, value in result.items():
        print(f"{name:<{width}}  {value:>12,.1f}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
