"""FIX round trip: orders per second and ack latency through Interlock, against a bare acceptor.

Both legs run in this one process, on 127.0.0.1, with the same QuickFIX client:

- interlock: a desk's FIX client -> Interlock's acceptor -> `Gateway.submit` (every check,
  the SQLite journal with group commit, fsync) -> ExecutionReport New sent from `on_ack`,
  once the decision is durable; accepted orders go on to the simulated venue.
- passthrough: the same client -> a QuickFIX acceptor that answers every NewOrderSingle
  with an ExecutionReport New at once: no checks, no journal.

Throughput keeps `--window` orders in flight; latency is send-to-ack with one order in
flight. The legs alternate for `--rounds` rounds (both share one GIL and two cores, so a
single round is noisy): orders/s is the median round, p50/p99 are over every ack.
`overhead_ratio` = passthrough_orders_per_s / interlock_orders_per_s.

    python bench/fix_roundtrip.py [--orders 3000] [--window 32] [--latency-orders 300]
                                  [--rounds 5] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from interlock.api.fix import FixAcceptor, FixAcceptorConfig, FixLogin
from interlock.journal.sqlite import SqliteJournal
from interlock.sim.fix import FakeExchange, Fields, FixClient, free_port
from interlock.sim.harness import MM_KEY, around_the_clock, build, config_with, high_rate
from interlock.venue.tap import ExecutionTap

SYMBOLS = ("AAPL", "MSFT", "AMZN", "NVDA", "GOOG", "META", "JPM", "XOM", "SPY")
_BIG = {"count": 1_000_000, "window_ms": 1_000}


class Pump:
    """Sends orders through one client with at most `window` unanswered; times each ack."""

    def __init__(self, client: FixClient) -> None:
        self.client = client
        self.sent: dict[str, float] = {}
        self.latencies: list[float] = []
        self.rejects = 0
        self.first_reject = ""
        self._free = threading.Semaphore(0)
        self._done = threading.Event()
        self._left = 0
        client.on_message = self._on_message

    def _on_message(self, m: Fields) -> None:
        if m[35] != "8" or m.get(150) not in ("0", "8"):
            return  # fills and cancels are not acks
        t0 = self.sent.pop(m[11], None)
        if t0 is None:
            return
        self.latencies.append(time.perf_counter() - t0)
        if m[150] == "8":
            self.rejects += 1
            self.first_reject = self.first_reject or m.get(58, "")
        self._free.release()
        self._left -= 1
        if self._left == 0:
            self._done.set()

    def run(self, tag: str, n: int, window: int) -> float:
        """Send `n` orders; return the seconds from the first send to the last ack."""
        self.latencies.clear()
        self._left, self._done = n, threading.Event()
        self._free = threading.Semaphore(window)
        t0 = time.perf_counter()
        for i in range(n):
            if not self._free.acquire(timeout=10):
                raise RuntimeError(f"{tag}: no ack within 10 s ({len(self.sent)} in flight)")
            cl = f"{tag}-{i}"
            buy = i % 2 == 0
            price = f"{99.90 - (i // 1000) % 50 * 0.01:.2f}" if buy else "100.10"
            self.sent[cl] = time.perf_counter()
            sym = SYMBOLS[i % len(SYMBOLS)]
            self.client.new_order(cl, sym, "1" if buy else "2", i % 97 + 1, price)
        if not self._done.wait(30):
            raise RuntimeError(f"{tag}: acks missing after 30 s")
        return time.perf_counter() - t0


def _leg(pump: Pump, tag: str, orders: int, window: int, lat_n: int) -> dict[str, Any]:
    """One round of one leg: throughput with `window` in flight, then latency at one."""
    pump.rejects, pump.first_reject = 0, ""
    elapsed = pump.run(f"{tag}t", orders, window)
    pump.run(f"{tag}l", lat_n, 1)
    return {"orders_per_s": orders / elapsed, "latencies": list(pump.latencies),
            "rejects": pump.rejects, "first_reject": pump.first_reject}  # fmt: skip


def _summary(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """Median throughput over the rounds; latency percentiles over every round's acks."""
    lat = sorted(x for r in rounds for x in r["latencies"])
    return {
        "orders_per_s": statistics.median(r["orders_per_s"] for r in rounds),
        "p50_us": statistics.median(lat) * 1e6,
        "p99_us": lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1e6,
        "rejects": sum(r["rejects"] for r in rounds),
        "first_reject": next((r["first_reject"] for r in rounds if r["first_reject"]), ""),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--orders", type=int, default=3_000)
    ap.add_argument("--window", type=int, default=32)
    ap.add_argument("--latency-orders", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    lat_n = args.latency_orders
    root = Path(tempfile.mkdtemp(prefix="fix-bench-"))
    rates = {"per_instance": _BIG, "per_strategy": _BIG, "per_symbol": _BIG}
    # orders rest at the simulated venue and pile up: lift the money and position limits
    # so every order is accepted (a rejection costs less than an accept and would flatter)
    huge = {"max_position": 10**9, "max_gross_notional": "1e12", "credit_limit": "1e12"}
    firm = {"max_gross_notional": "1e13", "restricted_symbols": ["KCG"]}
    config = config_with(rates=rates, duplicate_window_ms=0, firm=firm, accounts={"mm-1": huge})
    harness = build(
        high_rate(around_the_clock(config)),
        journal=SqliteJournal(root / "journal.db"),
        clock=time.time_ns,
    )  # the wall clock, at any hour: the 24/7 calendar
    tap = ExecutionTap(harness.gateway)
    harness.venue.attach(tap)
    port, pass_port = free_port(), free_port()
    login = FixLogin(comp_id="BENCH", username="market-making", account="mm-1", strategy="b")
    acceptor = FixAcceptor(harness.gateway, tap,
                           FixAcceptorConfig(port=port, sessions=(login,), file_log=False),
                           root / "acceptor").start()  # fmt: skip
    passthrough = FakeExchange(root / "pass", pass_port, "PASS", "BENCHP", fill=False)
    passthrough.start()
    desk = FixClient(root / "desk", port, "BENCH", "market-making", MM_KEY, file_log=False)
    bare = FixClient(root / "bare", pass_port, "BENCHP", "x", "x", "PASS", file_log=False)
    try:
        if not (desk.start() and bare.start()):
            raise RuntimeError("FIX clients did not log on")
        harness.gateway.start_heartbeat()  # a real clock: the lease must be renewed
        refresher = threading.Thread(target=_refresh, args=(harness,), daemon=True)
        refresher.start()
        il_pump, pt_pump = Pump(desk), Pump(bare)
        il_pump.run("ilw", 500, args.window)  # warm-up: first-use costs, caches, pages
        pt_pump.run("ptw", 500, args.window)
        il_rounds, pt_rounds = [], []
        for r in range(args.rounds):  # alternated, so drift on the machine hits both legs
            il_rounds.append(_leg(il_pump, f"il{r}", args.orders, args.window, lat_n))
            pt_rounds.append(_leg(pt_pump, f"pt{r}", args.orders, args.window, lat_n))
        il, pt = _summary(il_rounds), _summary(pt_rounds)
    finally:
        for c in (desk, bare):
            c.stop(force=False)
        acceptor.stop()
        passthrough.stop()
        harness.gateway.close()
    result = {
        "orders": args.orders,
        "window": args.window,
        "rounds": args.rounds,
        "interlock_orders_per_s": round(il["orders_per_s"], 1),
        "passthrough_orders_per_s": round(pt["orders_per_s"], 1),
        "overhead_ratio": round(pt["orders_per_s"] / il["orders_per_s"], 3),
        "interlock_ack_p50_us": round(il["p50_us"], 1),
        "interlock_ack_p99_us": round(il["p99_us"], 1),
        "passthrough_ack_p50_us": round(pt["p50_us"], 1),
        "passthrough_ack_p99_us": round(pt["p99_us"], 1),
        "interlock_rejects": il["rejects"],
    }
    _print(result)
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    if il["rejects"]:
        Console(stderr=True).print(f"interlock rejected {il['rejects']}: {il['first_reject']}")
    return 0 if il["rejects"] == 0 else 1


def _refresh(harness: Any) -> None:
    """Reference prices on a real clock go stale after 5 s: keep them fresh."""
    while True:
        harness.refresh_references()
        time.sleep(0.5)


def _print(r: dict[str, Any]) -> None:
    title = f"FIX round trip: {r['rounds']} x {r['orders']:,} orders, {r['window']} in flight"
    table = Table(title=title)
    for col in ("leg", "orders/s", "ack p50 µs", "ack p99 µs"):
        table.add_column(col, justify="right" if col != "leg" else "left")
    for leg in ("interlock", "passthrough"):
        table.add_row(leg, f"{r[f'{leg}_orders_per_s']:,.0f}", f"{r[f'{leg}_ack_p50_us']:,.0f}",
                      f"{r[f'{leg}_ack_p99_us']:,.0f}")  # fmt: skip
    table.caption = f"overhead_ratio {r['overhead_ratio']} (target <= 1.15)"
    Console().print(table)


if __name__ == "__main__":
    sys.exit(main())
