"""Hot-path benchmark: decide latency, decide throughput, durable throughput, ack latency.

A realistic mix: 500 symbols, 20 accounts, every check enabled, about 10% of orders
rejected by various checks (collar, size, notional, restricted, market-in-auction,
duplicates, unknown symbol, off-tick). `floor_ns` is a bare Python function doing one dict
lookup and four integer comparisons, timed in the same run, so figures from different
machines can be compared as ratios.

The durable run sends to a counting venue (no matching engine), so it measures Interlock:
decide, journal, fsync, release. Garbage collection: the benchmark freezes its inputs
(`gc.freeze()`) as a long-running service does after start-up; per-order objects are
untracked msgspec Structs, so a gen-2 collection never scans the order book.

    python bench/hotpath.py [--orders N] [--control-plane embedded|etcd] [--json PATH]

`--control-plane etcd` builds every gateway on a real 3-node etcd cluster (started here):
the order path reads the same cached gate either way, so the figures must match.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import itertools
import json
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from interlock.api.config import parse_config
from interlock.control.etcd_plane import EtcdControlPlane
from interlock.control.ports import ControlPlane
from interlock.domain.commands import OrderRequest
from interlock.domain.decision import Decision
from interlock.domain.enums import OrderType, Side, TradingSession
from interlock.gateway.config import GatewayConfig, hash_key
from interlock.journal.memory import MemoryJournal
from interlock.journal.sqlite import SqliteJournal
from interlock.observe import MONITOR_NAMES
from interlock.sim.etcd_cluster import EtcdCluster
from interlock.sim.harness import around_the_clock, build, high_rate

SYMBOLS = 500
ACCOUNTS = 20
TICK = Decimal("0.01")


def bench_config() -> GatewayConfig:
    """500 symbols, 20 accounts; rate envelopes and monitor thresholds out of reach (the
    monitors run on every decision and fill, and are timed, but never trip)."""
    return high_rate(around_the_clock(_limits_config()))  # the wall clock, at any hour


def _limits_config() -> GatewayConfig:
    symbols = {f"S{i:03d}": {"tick_size": "0.01"} for i in range(SYMBOLS)}
    keys = [
        {
            "principal": f"algo-{a}",
            "key_sha256": hash_key(f"key-{a}"),
            "accounts": [f"acct-{a}"],
            "strategies": ["*"],
        }
        for a in range(ACCOUNTS)
    ]
    return parse_config(
        {
            "instruments": symbols,
            "api_keys": keys,
            "limits": {
                "firm": {"max_gross_notional": "100000000000", "restricted_symbols": ["S499"]},
                "accounts": {f"acct-{a}": {} for a in range(ACCOUNTS)},
                "defaults": {
                    "max_order_qty": 5_000,
                    "max_order_notional": "400000",
                    "max_position": 2_000_000,
                    "max_gross_notional": "5000000000",
                    "credit_limit": "100000000000",
                    "daily_loss_limit": "100000000",
                },
                "rates": {
                    "per_instance": {"count": 10_000_000, "window_ms": 1000},
                    "per_strategy": {"count": 1_000_000, "window_ms": 1000},
                    "per_symbol": {"count": 100_000, "window_ms": 1000},
                    "market_per_symbol": {"count": 100_000, "window_ms": 60_000},
                },
                "collar": {"reference_max_age_ms": 600_000},
                # market makers' sales are short sales of easy-to-borrow names
                "short_sale": {"easy_to_borrow": sorted(symbols)},
                "adv": {"shares": dict.fromkeys(symbols, 100_000_000)},
                "duplicate_window_ms": 50,
            },
        },
        "bench",
    )


def make_orders(n: int, seed: int = 42) -> list[tuple[OrderRequest, str]]:
    """Mostly plain limit orders near the mid, buys below it and sells above it (a desk's
    own limits never cross each other: SELF_TRADE); about 10% aimed at a rejecting check.
    The 5% market orders cross every working order of their account on the other side,
    so a few of them are refused SELF_TRADE, as they would be in production."""
    rng = random.Random(seed)
    out: list[tuple[OrderRequest, str]] = []
    for i in range(n):
        a = rng.randrange(ACCOUNTS)
        sym = f"S{rng.randrange(SYMBOLS - 1):03d}"
        side = Side.BUY if rng.random() < 0.5 else Side.SELL_SHORT
        qty = rng.randrange(1, 30) * 10
        away = abs(rng.randrange(-20, 21))  # resting 1-21 ticks from the mid, on its side:
        ticks = 9_999 - away if side is Side.BUY else 10_001 + away  # no limit self-crosses
        kind = OrderType.LIMIT
        session = TradingSession.CONTINUOUS
        price: Decimal | None = ticks * TICK
        r = rng.random()
        if r < 0.10:  # the rejected tenth, spread over several checks
            which = i % 8
            if which == 0:
                price = (ticks + 1_500) * TICK  # PRICE_COLLAR
            elif which == 1:
                qty = 9_000  # MAX_ORDER_QTY
            elif which == 2:
                qty = 4_500  # MAX_ORDER_NOTIONAL (450k over 400k)
            elif which == 3:
                sym = "S499"  # RESTRICTED_SYMBOL
            elif which == 4:
                kind, price, session = OrderType.MARKET, None, TradingSession.OPENING_AUCTION
            elif which == 5:
                sym = "NOPE"  # UNKNOWN_SYMBOL
            elif which == 6:
                price = Decimal("100.005")  # SCHEMA_INVALID (off tick)
            else:
                out.append(out[-1])  # DUPLICATE_ORDER: same payload again at once
                continue
        elif r < 0.15:
            kind, price = OrderType.MARKET, None
        req = OrderRequest(f"o{i}", f"acct-{a}", "mm", sym, side, qty, kind, price,
                           session=session)  # fmt: skip
        out.append((req, f"key-{a}"))
    return out


def floor_ns(n: int) -> float:
    table = {f"S{i:03d}": i for i in range(SYMBOLS)}

    def bare(sym: str, qty: int, price: int) -> bool:
        v = table[sym]
        return qty > 0 and qty < 10_000 and price > v and price < 1_000_000

    syms = [f"S{i % SYMBOLS:03d}" for i in range(1000)]
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter_ns()
        for i in range(n):
            bare(syms[i % 1000], 100, 500)
        best = min(best, (time.perf_counter_ns() - t0) / n)
    loop_only = float("inf")
    for _ in range(5):
        t0 = time.perf_counter_ns()
        for i in range(n):
            syms[i % 1000]
        loop_only = min(loop_only, (time.perf_counter_ns() - t0) / n)
    return best - loop_only


def fresh_references(h: Any) -> None:
    for s in h.market.symbols:
        h.gateway.update_reference(s, h.market.mid(s))


def bench_decide(orders: list[tuple[OrderRequest, str]]) -> dict[str, float]:
    h = build(
        bench_config(), plane=_plane(), journal=MemoryJournal(), clock=time.time_ns, depth=1_000_000
    )
    gw, jr = h.gateway, h.journal
    gw.start_heartbeat()
    lat: list[int] = []
    codes: dict[str, int] = {}
    pc = time.perf_counter_ns
    gc.disable()
    chunk = 5_000
    for start in range(0, len(orders), chunk):
        fresh_references(h)
        for req, key in orders[start : start + chunk]:
            t0 = pc()
            d = gw.submit(req, key)
            lat.append(pc() - t0)
            c = d.code.value if d.code else "ACCEPTED"
            codes[c] = codes.get(c, 0) + 1
        jr.flush()  # release to the venue (fills) outside the timed section
    gc.enable()
    # throughput: the same flow, no per-order timer
    h2 = build(
        bench_config(), plane=_plane(), journal=MemoryJournal(), clock=time.time_ns, depth=1_000_000
    )
    h2.gateway.start_heartbeat()
    total = 0
    gc.disable()
    for start in range(0, len(orders), chunk):
        fresh_references(h2)
        part = orders[start : start + chunk]
        submit = h2.gateway.submit
        t0 = pc()
        for req, key in part:
            submit(req, key)
        total += pc() - t0
        h2.journal.flush()
    gc.enable()
    lat.sort()
    n = len(lat)
    rejected = n - codes.get("ACCEPTED", 0)
    return {
        "decide_p50_us": lat[n // 2] / 1e3,
        "decide_p99_us": lat[int(n * 0.99)] / 1e3,
        "decide_mean_us": statistics.fmean(lat) / 1e3,
        "decide_per_s": len(orders) / (total / 1e9),
        "rejected_fraction": rejected / n,
        "codes": codes,  # type: ignore[dict-item]
    }


def _p50_decide(orders: list[tuple[OrderRequest, str]], disabled: tuple[str, ...]) -> float:
    h = build(bench_config(), plane=_plane(), journal=MemoryJournal(), clock=time.time_ns,
              depth=1_000_000, disabled_checks=disabled)  # fmt: skip
    gw, jr, pc = h.gateway, h.journal, time.perf_counter_ns
    lat: list[int] = []
    gc.disable()
    for start in range(0, len(orders), 5_000):
        fresh_references(h)
        for req, key in orders[start : start + 5_000]:
            t0 = pc()
            gw.submit(req, key)
            lat.append(pc() - t0)
        jr.flush()  # fills reach the monitors too, outside the timed section
    gc.enable()
    h.gateway.close()
    lat.sort()
    return lat[len(lat) // 2] / 1e3


def bench_monitor_cost(orders: list[tuple[OrderRequest, str]], rounds: int = 7) -> dict[str, float]:
    """The runaway monitors' cost on decide p50: the same orders with every monitor on and
    with all of them off, in interleaved rounds (same process, same machine state); the
    median of the per-round ratios."""
    part = orders[:40_000]
    on, off, ratios = [], [], []
    for _ in range(rounds):
        a = _p50_decide(part, ())
        b = _p50_decide(part, tuple(sorted(MONITOR_NAMES)))
        on.append(a)
        off.append(b)
        ratios.append(a / b)
    return {
        "monitors_on_p50_us": statistics.median(on),
        "monitors_off_p50_us": statistics.median(off),
        "monitor_cost_ratio": statistics.median(ratios),
    }


class CountingVenue:
    """A venue port that only counts what it is sent: the durable path measures Interlock
    (decide, journal, fsync, release), not a matching engine's fills."""

    def __init__(self) -> None:
        self.sent = 0

    def send(self, order: object) -> None:
        self.sent += 1

    def cancel(self, order_id: int) -> None:
        pass


def bench_durable(orders: list[tuple[OrderRequest, str]], paced_rate: int) -> dict[str, float]:
    """Flood: pipelined as fast as submit allows, until the last order is durable. Then
    paced runs at `paced_rate` and half of it, for the ack latency a caller sees."""
    pc = time.perf_counter_ns
    with tempfile.TemporaryDirectory() as tmp:
        jr = SqliteJournal(Path(tmp) / "flood.db", background=True, max_wait_s=0.001)
        h = build(bench_config(), plane=_plane(), journal=jr, clock=time.time_ns, depth=1_000_000)
        gw = h.gateway
        gw.venue = CountingVenue()
        gw.start_heartbeat()
        fresh_references(h)
        n = len(orders)
        acks: list[int] = [0] * n
        sent: list[int] = [0] * n
        callbacks = [_acker(acks, i) for i in range(n)]
        gc.freeze()  # as a service does after start-up: inputs and state never scanned again
        last: Decision | None = None
        t0 = pc()
        for i, (req, key) in enumerate(orders):
            sent[i] = pc()
            decision = gw.submit(req, key, callbacks[i])
            if decision.order_id is not None:
                last = decision
        jr.flush(60)
        if last is not None:
            gw.wait(last, 60)  # durable and released (the release runs off the writer)
        elapsed = pc() - t0
        gw.close()
        flood = sorted(acks[i] - sent[i] for i in range(n))
        full = paced_acks(orders, paced_rate, Path(tmp))
        half = paced_acks(orders, paced_rate // 2, Path(tmp))
    return {
        "durable_per_s": n / (elapsed / 1e9),
        "flood_ack_p50_ms": flood[n // 2] / 1e6,
        "flood_ack_p99_ms": flood[int(n * 0.99)] / 1e6,
        "paced_rate_per_s": paced_rate,
        "ack_p50_ms": full[len(full) // 2] / 1e6,
        "ack_p99_ms": full[int(len(full) * 0.99)] / 1e6,
        "half_rate_ack_p50_ms": half[len(half) // 2] / 1e6,
        "half_rate_ack_p99_ms": half[int(len(half) * 0.99)] / 1e6,
    }


def _acker(acks: list[int], i: int) -> Any:
    def ack(_: Decision) -> None:
        acks[i] = time.perf_counter_ns()

    return ack


def paced_acks(orders: list[tuple[OrderRequest, str]], rate: int, tmp: Path) -> list[int]:
    """Submit in 1 ms bursts at `rate` orders/s for up to 2 s; submit-to-ack latencies."""
    pc = time.perf_counter_ns
    h = build(bench_config(), plane=_plane(), journal=SqliteJournal(tmp / f"paced-{rate}.db"),
              clock=time.time_ns, depth=1_000_000)  # fmt: skip
    h.gateway.venue = CountingVenue()
    h.gateway.start_heartbeat()
    fresh_references(h)
    m = min(len(orders), rate * 2)
    acks: list[int] = [0] * m
    sent: list[int] = [0] * m
    callbacks = [_acker(acks, i) for i in range(m)]
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
            h.gateway.submit(req, key, callbacks[i])
    h.journal.flush(60)
    h.gateway.close()
    return sorted(acks[i] - sent[i] for i in range(m) if acks[i])


PLANES: list[Callable[[], ControlPlane | None]] = [lambda: None]  # None: the harness's own


def _plane() -> ControlPlane | None:
    """A fresh plane for the next gateway: `--control-plane` decides which (see main)."""
    return PLANES[0]()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--orders", type=int, default=200_000)
    ap.add_argument("--control-plane", choices=["embedded", "etcd"], default="embedded")
    ap.add_argument("--paced-rate", type=int, default=100_000)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    with contextlib.ExitStack() as stack:
        if args.control_plane == "etcd":
            cluster = stack.enter_context(EtcdCluster(3))
            fleets = itertools.count()
            PLANES[0] = lambda: EtcdControlPlane(
                f"etcd://{cluster.endpoints}", prefix=f"hotpath/{next(fleets)}"
            )
        run(args)


def run(args: argparse.Namespace) -> None:
    orders = make_orders(args.orders)
    result: dict[str, Any] = {"orders": args.orders, "symbols": SYMBOLS, "accounts": ACCOUNTS,
                              "control_plane": args.control_plane}  # fmt: skip
    result["floor_ns"] = floor_ns(1_000_000)
    result.update(bench_decide(orders))
    result.update(bench_monitor_cost(orders))
    result.update(bench_durable(orders, args.paced_rate))
    result["decide_p50_over_floor"] = result["decide_p50_us"] * 1e3 / result["floor_ns"]
    targets = {
        "decide_p50_us": ("<=", 3.0),
        "decide_p99_us": ("<=", 10.0),
        "durable_per_s": (">=", 100_000),
        "ack_p99_ms": ("<=", 2.0),
        "monitor_cost_ratio": ("<=", 1.10),
    }
    table = Table(title=f"Interlock hot path ({args.orders:,} orders, {args.control_plane} plane)")
    for col in ("metric", "value", "target", "met"):
        table.add_column(col)
    for k, v in result.items():
        if k == "codes":
            continue
        t = targets.get(k)
        met = "" if t is None else ("yes" if (v <= t[1] if t[0] == "<=" else v >= t[1]) else "NO")
        val = f"{v:,.3f}" if isinstance(v, float) else f"{v:,}" if isinstance(v, int) else str(v)
        table.add_row(k, val, "" if t is None else f"{t[0]} {t[1]:,}", met)
    console = Console()
    console.print(table)
    console.print("reject mix:", dict(sorted(result["codes"].items(), key=lambda kv: -kv[1])))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
