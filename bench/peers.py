"""Interlock beside a peer: the same limit orders to `Gateway.submit` and to NautilusTrader
1.221's `RiskEngine.execute`, in one process, interleaved rounds, medians of per-round ratios.

Each round builds five fresh sides and sends each the same orders (hotpath.py's mix, limit
orders only, each client order id once), in an order that rotates from round to round:

- `interlock`: a Gateway built as hotpath.py builds it (every check and monitor on,
  MemoryJournal, the wall clock). Timed: `gw.submit(request, key)`, i.e. decode, caller
  authentication, idempotency, instance gate, kill switch, readiness, every pre-trade
  check, reservation and the journal append. Not timed: the release to the venue, which
  waits for durability (`journal.flush()` every 5,000 orders, as hotpath.py does).
- `interlock_checks_off`: the same with every pre-trade check (`risk.engine.CHECK_NAMES`)
  off; the other stages, the reservation, the journal and the monitors still run.
- `interlock_routed`: `gw.submit` and then `journal.flush()` inside the timer, so an
  accepted order is also made durable (in memory) and released to hotpath.py's
  CountingVenue: the closest match to what NautilusTrader's call does.
- `nautilus`: NautilusTrader's RiskEngine on a cash account (bench/nautilus_peer.py), with
  `max_notional_per_order` and the same limits. Timed: `risk.execute(SubmitOrder)`, i.e. its
  checks, the throttler, and for an order that passes the ExecutionEngine (cache the order,
  route) and the mock client's `submit_order`; for a denied one, the OrderDenied event
  through the ExecutionEngine. Not timed: building the LimitOrder and SubmitOrder.
- `nautilus_bypass`: the same engine with `bypass=True`: no risk check, straight to the
  ExecutionEngine and the client.

    python bench/peers.py [--orders N] [--rounds R] [--json PATH]

Needs the `peers` extra: `bash scripts/install.sh test,peers`.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import importlib.util
import json
import os
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from hotpath import CountingVenue, bench_config, floor_ns, fresh_references, make_orders
from interlock.domain.commands import OrderRequest
from interlock.domain.enums import OrderType, Side
from interlock.gateway.config import GatewayConfig
from interlock.journal.memory import MemoryJournal
from interlock.risk.engine import CHECK_NAMES, CHECKS
from interlock.sim.harness import build

if importlib.util.find_spec("nautilus_trader") is None:  # before the imports that need it
    sys.exit("bench/peers.py needs NautilusTrader: bash scripts/install.sh test,peers")

from nautilus_peer import ACCEPTED, NautilusPeer

SIDES = ("interlock", "interlock_checks_off", "interlock_routed", "nautilus", "nautilus_bypass")
CHUNK = 5_000  # hotpath.py's: references refreshed, the journal flushed, between chunks
TIMED = {
    "interlock": "Gateway.submit(request, key): decode, authenticate, idempotency, instance "
    "gate, kill switch, readiness, every pre-trade check, reserve, journal append "
    "(MemoryJournal); not the release to the venue, which waits for durability",
    "interlock_checks_off": "the same Gateway.submit with every pre-trade check off",
    "interlock_routed": "Gateway.submit then MemoryJournal.flush(): the same, then the order "
    "made durable and released to a venue that counts it (hotpath.CountingVenue)",
    "nautilus": "RiskEngine.execute(SubmitOrder): its pre-trade checks and throttler, then "
    "ExecutionEngine.execute (cache the order, route) and MockExecutionClient.submit_order; "
    "a denial: OrderDenied through ExecutionEngine.process",
    "nautilus_bypass": "RiskEngine.execute(SubmitOrder) with bypass=True: straight to "
    "ExecutionEngine.execute and MockExecutionClient.submit_order",
}
Orders = list[tuple[OrderRequest, str]]


def peer_orders(n: int, seed: int = 42) -> Orders:
    """The first `n` limit orders of hotpath.py's mix, each client order id once (its
    repeats test Interlock's idempotency, which the peer leaves to the strategy)."""
    out: Orders = []
    seen: set[str] = set()
    for req, key in make_orders(2 * n + 100, seed):
        if req.order_type is OrderType.LIMIT and req.client_order_id not in seen:
            seen.add(req.client_order_id)
            out.append((req, key))
            if len(out) == n:
                return out
    raise ValueError(f"hotpath.make_orders gave fewer than {n} distinct limit orders")


def _digest(rows: list[tuple[str, ...]]) -> str:
    """One hash over the orders as a side was handed them, to show both got the same."""
    return hashlib.sha256("\n".join("|".join(r) for r in rows).encode()).hexdigest()[:16]


def _percentiles(lat: list[int]) -> tuple[float, float]:
    lat.sort()
    return lat[len(lat) // 2] / 1e3, lat[int(len(lat) * 0.99)] / 1e3


def run_interlock(
    orders: Orders, config: GatewayConfig, *, checks_off: bool = False, routed: bool = False
) -> dict[str, Any]:
    disabled = tuple(sorted(CHECK_NAMES)) if checks_off else ()
    h = build(config, journal=MemoryJournal(), clock=time.time_ns, depth=1_000_000,
              disabled_checks=disabled)  # fmt: skip
    gw, jr, pc = h.gateway, h.journal, time.perf_counter_ns
    venue = CountingVenue()
    if routed:
        gw.venue = venue  # as hotpath's durable run: no matching engine, no fills
    gw.start_heartbeat()
    lat: list[int] = []
    decisions = []
    gc.collect()
    gc.disable()
    for start in range(0, len(orders), CHUNK):
        fresh_references(h)
        for req, key in orders[start : start + CHUNK]:
            if routed:
                t0 = pc()
                d = gw.submit(req, key)
                jr.flush()  # durable, then released to the venue: inside the timer
                lat.append(pc() - t0)
            else:
                t0 = pc()
                d = gw.submit(req, key)
                lat.append(pc() - t0)
            decisions.append(d)
        jr.flush()  # the release to the venue, outside the timed section
    gc.enable()
    gw.close()
    p50, p99 = _percentiles(lat)
    checks = [n for n, _ in gw.stages if n != "pre_trade_checks"]
    checks += [n for n, _ in CHECKS if n not in gw.engine.disabled]
    # the side as the peer spells it: it has no short-sale marking, so sell_short is SELL
    rows = [(r.client_order_id, r.symbol, "BUY" if r.side is Side.BUY else "SELL",
             str(r.quantity), str(r.limit_price), r.time_in_force.value.upper())
            for r, _ in orders]  # fmt: skip
    outcomes = [d.code.value if d.code else ACCEPTED for d in decisions]
    if routed and venue.sent != outcomes.count(ACCEPTED):
        raise RuntimeError(f"venue got {venue.sent} orders, {outcomes.count(ACCEPTED)} passed")
    return {"p50_us": p50, "p99_us": p99, "checks": checks, "orders": len(lat),
            "digest": _digest(rows), "outcomes": outcomes}  # fmt: skip


def run_nautilus(orders: Orders, config: GatewayConfig, bypass: bool) -> dict[str, Any]:
    peer = NautilusPeer(config, bypass=bypass)
    commands = [peer.command(req) for req, _ in orders]  # a strategy's work: not timed
    execute, pc = peer.risk.execute, time.perf_counter_ns
    lat: list[int] = []
    gc.collect()
    gc.disable()
    for command in commands:
        t0 = pc()
        execute(command)
        lat.append(pc() - t0)
    gc.enable()
    p50, p99 = _percentiles(lat)
    rows = [(c.order.client_order_id.value, c.order.instrument_id.symbol.value,
             c.order.side_string(), str(c.order.quantity), str(c.order.price),
             c.order.tif_string()) for c in commands]  # fmt: skip
    outcomes = peer.outcomes(commands)
    if peer.sent != outcomes.count(ACCEPTED):
        raise RuntimeError(f"client got {peer.sent} orders, {outcomes.count(ACCEPTED)} passed")
    return {"p50_us": p50, "p99_us": p99, "checks": list(peer.checks), "orders": len(lat),
            "digest": _digest(rows), "outcomes": outcomes}  # fmt: skip


RUNNERS: dict[str, Callable[[Orders, GatewayConfig], dict[str, Any]]] = {
    "interlock": lambda o, c: run_interlock(o, c),
    "interlock_checks_off": lambda o, c: run_interlock(o, c, checks_off=True),
    "interlock_routed": lambda o, c: run_interlock(o, c, routed=True),
    "nautilus": lambda o, c: run_nautilus(o, c, bypass=False),
    "nautilus_bypass": lambda o, c: run_nautilus(o, c, bypass=True),
}


def compare(orders: int, rounds: int) -> dict[str, Any]:
    """Every side once per round, in an order rotated each round; medians over rounds."""
    book = peer_orders(orders)
    config = bench_config()
    per_round: list[dict[str, dict[str, Any]]] = []
    for r in range(rounds):
        sides = SIDES[r % len(SIDES) :] + SIDES[: r % len(SIDES)]
        per_round.append({side: RUNNERS[side](book, config) for side in sides})
    first = per_round[0]
    result: dict[str, Any] = {"orders_per_round": orders, "rounds": rounds}
    for side in SIDES:
        for q in ("p50_us", "p99_us"):
            result[f"{side}_{q}"] = statistics.median(rr[side][q] for rr in per_round)
        result[f"{side}_checks"] = first[side]["checks"]
        result[f"{side}_orders"] = first[side]["orders"]
        result[f"{side}_orders_digest"] = first[side]["digest"]
        result[f"{side}_outcomes"] = dict(Counter(first[side]["outcomes"]).most_common())

    def ratio(a: str, b: str, q: str = "p50_us") -> float:
        return statistics.median(rr[a][q] / rr[b][q] for rr in per_round)

    def cost(a: str, b: str) -> float:
        return statistics.median(rr[a]["p50_us"] - rr[b]["p50_us"] for rr in per_round)

    result["ratio_vs_nautilus"] = ratio("interlock", "nautilus")
    result["ratio_vs_nautilus_p99"] = ratio("interlock", "nautilus", "p99_us")
    result["ratio_vs_nautilus_bypass"] = ratio("interlock", "nautilus_bypass")
    result["ratio_routed_vs_nautilus"] = ratio("interlock_routed", "nautilus")
    result["interlock_checks_cost_us"] = cost("interlock", "interlock_checks_off")
    result["nautilus_checks_cost_us"] = cost("nautilus", "nautilus_bypass")
    result["round_p50_us"] = [{s: round(rr[s]["p50_us"], 3) for s in SIDES} for rr in per_round]
    result["timed"] = TIMED
    result.update(_disagreements(first["interlock"]["outcomes"], first["nautilus"]["outcomes"]))
    return result


def _disagreements(ours: list[str], theirs: list[str]) -> dict[str, Any]:
    """Orders one side refused and the other let through, by the refusing side's reason."""
    only_interlock = Counter(a for a, b in zip(ours, theirs, strict=True)
                             if a != ACCEPTED and b == ACCEPTED)  # fmt: skip
    only_nautilus = Counter(b for a, b in zip(ours, theirs, strict=True)
                            if b != ACCEPTED and a == ACCEPTED)  # fmt: skip
    return {"refused_by_interlock_only": dict(only_interlock.most_common()),
            "refused_by_nautilus_only": dict(only_nautilus.most_common())}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--orders", type=int, default=20_000, help="limit orders per round")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    if args.orders < 100 or args.rounds < 1:
        ap.error("--orders must be >= 100 and --rounds >= 1")
    result = {"load_average_1m": os.getloadavg()[0], "floor_ns": floor_ns(200_000)}
    result.update(compare(args.orders, args.rounds))
    result["load_average_1m_after"] = os.getloadavg()[0]
    print_table(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, sort_keys=True))


def print_table(result: dict[str, Any]) -> None:
    table = Table(title=f"Interlock beside NautilusTrader 1.221 ({result['orders_per_round']:,} "
                        f"limit orders x {result['rounds']} interleaved rounds)")  # fmt: skip
    for col in ("side", "p50 µs", "p99 µs", "checks", "refused"):
        table.add_column(col, justify="left" if col == "side" else "right")
    for side in SIDES:
        refused = result[f"{side}_orders"] - result[f"{side}_outcomes"].get(ACCEPTED, 0)
        table.add_row(side, f"{result[f'{side}_p50_us']:.2f}", f"{result[f'{side}_p99_us']:.2f}",
                      str(len(result[f"{side}_checks"])), f"{refused:,}")  # fmt: skip
    console = Console()
    console.print(table)
    console.print(
        f"ratio_vs_nautilus (p50, median of per-round ratios): {result['ratio_vs_nautilus']:.3f}"
        f"  p99: {result['ratio_vs_nautilus_p99']:.3f}"
        f"  vs bypass: {result['ratio_vs_nautilus_bypass']:.3f}"
        f"  routed vs nautilus: {result['ratio_routed_vs_nautilus']:.3f}\n"
        f"checks alone (p50 with minus without): Interlock {result['interlock_checks_cost_us']:.2f}"
        f" µs, NautilusTrader {result['nautilus_checks_cost_us']:.2f} µs\n"
        f"refused by Interlock only: {result['refused_by_interlock_only']}\n"
        f"refused by NautilusTrader only: {result['refused_by_nautilus_only']}\n"
        f"floor_ns {result['floor_ns']:.0f}, load average {result['load_average_1m']:.2f}"
        f" before, {result['load_average_1m_after']:.2f} after"
    )


if __name__ == "__main__":
    main()
