"""Runaway catalogue: time to halt, orders accepted, gross at halt and loss, for 14 fixed
runaway shapes on the shipped default config, with every monitor and without each one;
and the normal desk flows with their halts (must be 0).

    python bench/runaway.py [--json PATH]

Simulated time on a manual clock (deterministic: the same numbers every run); wall time is
printed only to say what the run cost.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from interlock.observe import MONITOR_NAMES
from interlock.sim.flows import legit_flows
from interlock.sim.runaway import Runaway, desk_config, drive, harness

SHAPES: list[Runaway] = [
    Runaway("spread_150_alternate_market_160/s", pace=160, symbols=150),
    Runaway("spread_150_alternate_market_1000/s", pace=1_000, symbols=150),
    Runaway("concentrated_buy_market_5000/s", pace=5_000, symbols=1, sides="buy"),
    Runaway("concentrated_alternate_limit_300/s", pace=300, symbols=1, market=False),
    Runaway(
        "new_strategy_each_order_star_key_300/s",
        pace=300,
        symbols=12,
        new_strategy_each_order=True,
        accounts=("mm-1",),
    ),
    Runaway("two_accounts_each_150/s", pace=150, symbols=20, accounts=("desk-7", "mm-1")),
    Runaway(
        "random_sides_varied_size_500/s",
        pace=500,
        symbols=20,
        sides="random",
        vary_qty=True,
        qty=500,
    ),
    Runaway("big_orders_buy_20/s", pace=20, symbols=20, sides="buy", qty=3_000),
    Runaway("big_orders_alternate_20/s", pace=20, symbols=20, qty=4_000),
    Runaway("spread_150_buy_market_60/s", pace=60, symbols=150, sides="buy"),
    Runaway("spread_150_alternate_limit_99/s", pace=99, symbols=150, market=False),
    Runaway("one_symbol_sell_limit_30/s", pace=30, symbols=1, sides="sell", market=False, qty=500),
    Runaway("slow_small_buy_10/s", pace=10, symbols=3, sides="buy", qty=200),
    Runaway("marketable_limit_buy_101/s", pace=101, symbols=150, sides="buy", market=False),
]
VARIANTS = ["all", *(f"without_{m}" for m in sorted(MONITOR_NAMES))]


def run_shape(shape: Runaway, variant: str) -> dict[str, Any]:
    disabled = () if variant == "all" else (variant.removeprefix("without_"),)
    fresh = Runaway(**{k: getattr(shape, k) for k in (
        "name", "pace", "symbols", "sides", "qty", "vary_qty", "market",
        "new_strategy_each_order", "accounts", "seed")})  # fmt: skip
    fast = fresh.pace > 100  # as in tests/props/test_runaways.py: 3 s of it, halted or not
    fresh.max_orders = (int(fresh.pace * 3) if fast else 6_000) * len(fresh.accounts)
    r = drive(fresh, harness(desk_config(150), disabled=disabled), until_stopped=not fast)
    row = r.row()
    row["variant"] = variant
    row["stopped"] = r.stopped
    return row


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    logging.disable(logging.ERROR)  # every trip logs at error level: thousands of lines
    t0 = time.perf_counter()
    shapes = [run_shape(s, v) for s in SHAPES for v in VARIANTS]
    legit = []
    for flow in legit_flows():
        h = harness(desk_config(200))
        r = drive(flow, h, until_stopped=False)
        legit.append({"flow": flow.name, "orders": r.orders, "accepted": r.accepted,
                      "halts": len(r.halts), "refused": r.refused})  # fmt: skip
    with_all = [s for s in shapes if s["variant"] == "all"]
    halts = [s["halt_s"] for s in with_all if s["halt_s"] is not None]
    out: dict[str, Any] = {
        "worst_halt_s": max(halts) if halts else None,
        "worst_gross_usd": max(s["gross_at_halt_usd"] for s in with_all),
        "worst_loss_usd": max(s["loss_usd"] for s in with_all),
        "all_stopped": all(s["stopped"] for s in with_all),
        "shapes": shapes,
        "legit_flows": legit,
        "legit_halts": sum(f["halts"] for f in legit),
        "wall_s": round(time.perf_counter() - t0, 1),
    }
    console = Console(width=160)
    table = Table(title="Runaways on the shipped default config (simulated time)")
    for col in ("shape", "variant", "halt s", "orders", "accepted", "gross at halt",
                "loss", "stopped by"):  # fmt: skip
        table.add_column(col, justify="left" if col in ("shape", "variant", "stopped by")
                         else "right")  # fmt: skip
    for s in shapes:
        by = (
            s["halts"][0].split(" by ")[-1]
            if s["halts"]
            else (max(s["refused"], key=s["refused"].get) + " (refused)" if s["refused"] else "-")
        )
        halt = "-" if s["halt_s"] is None else f"{s['halt_s']:.2f}"
        table.add_row(s["shape"], s["variant"], halt, f"{s['orders']:,}", f"{s['accepted']:,}",
                      f"${s['gross_at_halt_usd']:,.0f}", f"${s['loss_usd']:,.0f}", by)  # fmt: skip
    console.print(table)
    legit_table = Table(title="Normal desk flows (must never halt)")
    for col in ("flow", "orders", "accepted", "halts", "refused"):
        legit_table.add_column(col)
    for f in legit:
        legit_table.add_row(f["flow"], f"{f['orders']:,}", f"{f['accepted']:,}",
                            str(f["halts"]), json.dumps(f["refused"]))  # fmt: skip
    console.print(legit_table)
    console.print(f"worst halt {out['worst_halt_s']} s, worst gross ${out['worst_gross_usd']:,.0f}"
                  f", worst loss ${out['worst_loss_usd']:,.0f} (every monitor on); legit halts "
                  f"{out['legit_halts']}; wall {out['wall_s']} s")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(out, indent=2, default=str))
    return out


if __name__ == "__main__":
    main()
