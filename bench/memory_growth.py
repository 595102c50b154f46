"""Memory growth: what one gateway keeps per order after the order has ended (issue 15).

The soak (`bench/soak.py`) shows serve's RSS rising ~1.6 KB per order at a steady flow of
orders that all end (fills, IOC remainders cancelled, resting orders cancelled). This
finds where, in process: one instance built as serve builds it (`sim.harness.build` over
the SQLite journal, serve's `open_journal`, the simulated venue serve runs in process),
the soak's flow (three orders in four marketable IOC, the fourth a resting DAY order
cancelled once released, accounts desk-7 and mm-1 in turn, short sales on easy-to-borrow
symbols, limits out of reach), on a manual clock at 1 ms an order. After `--warm` orders (past
the 60 s notional windows and the capped decision logs, which stop growing there) a
`tracemalloc` snapshot, then `--orders` more and another: the difference, by traceback,
is what the ended orders left behind, per accepted order.

    python bench/memory_growth.py [--warm 65000] [--orders 20000] [--json PATH]
"""

from __future__ import annotations

import argparse
import gc
import json
import tempfile
import tracemalloc
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from interlock.api.config import parse_config
from interlock.domain.clock import ManualClock
from interlock.domain.enums import Side, TimeInForce
from interlock.gateway.journal_config import open_journal
from interlock.sim.harness import (
    DESK_KEY,
    MM_KEY,
    START_NS,
    Harness,
    around_the_clock,
    build,
    high_rate,
)
from memory import _short  # bench/memory.py: file paths from the package root

HUGE = str(10**15)
TOP = 20


def harness(journal_dir: Path) -> Harness:
    """The packaged config, 24/7, every rate and monitor out of reach (`high_rate`), sizes
    and notionals out of reach, every symbol easy to borrow and none restricted, the
    SQLite journal: every order is accepted."""
    data = high_rate(around_the_clock()).model_dump(mode="json")
    limits = data["limits"]
    names = sorted(data["instruments"])
    limits["short_sale"] = {"easy_to_borrow": names}
    limits["adv"] = {"shares": dict.fromkeys(names, 10**9)}
    far = {"max_position": 10**8, "max_gross_notional": HUGE, "daily_loss_limit": HUGE}
    limits["defaults"].update(far, credit_limit=HUGE)
    for account in limits["accounts"].values():
        account.update(far)
    limits["firm"] = {"max_gross_notional": HUGE, "restricted_symbols": []}
    data["journal"] = {"path": str(journal_dir / "journal.db")}
    cfg = parse_config(data, "memory growth config")
    clock = ManualClock(START_NS)
    return build(cfg, clock=clock, journal=open_journal(cfg.journal, cfg.instance_id))


def flow(h: Harness, start: int, stop: int, codes: dict[str, int]) -> None:
    """Orders `start` .. `stop` of the soak's flow, each ended before the run goes on."""
    gw, clock = h.gateway, h.clock
    assert isinstance(clock, ManualClock)
    symbols = sorted(gw.instruments)
    for i in range(start, stop):
        clock.now += 1_000_000
        if i % 500 == 0:
            gw.heartbeat()
            h.refresh_references()
        symbol = symbols[i % len(symbols)]
        account, key = ("desk-7", DESK_KEY) if i % 2 else ("mm-1", MM_KEY)
        side = Side.BUY if (i // 400) % 2 == 0 else Side.SELL_SHORT
        sign = 1 if side is Side.BUY else -1
        resting = i % 4 == 3
        inst = gw.instruments[symbol]
        price = inst.to_price(h.market.mid(symbol) + sign * (-5 if resting else 2))
        extra: dict[str, Any] = {} if resting else {"time_in_force": TimeInForce.IOC}
        qty = 100 + (i // 8) % 1000
        request = h.order(account=account, symbol=symbol, side=side, limit_price=price,
                          quantity=qty, client_order_id=f"g{i}", **extra)  # fmt: skip
        d = gw.submit(request, key)
        code = "ACCEPTED" if d.rejection is None else d.rejection.code.value
        codes[code] = codes.get(code, 0) + 1
        if resting and d.order_id is not None:
            h.journal.flush()
            gw.wait(d)
            gw.cancel(d.order_id, key)
        elif i % 50 == 0:
            h.journal.flush()
    h.journal.flush()


def measure(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    h = harness(tmp)
    codes: dict[str, int] = {}
    flow(h, 0, args.warm, codes)
    gc.collect()
    tracemalloc.start(4)
    before = tracemalloc.take_snapshot()
    accepted_before = codes.get("ACCEPTED", 0)
    flow(h, args.warm, args.warm + args.orders, codes)
    gc.collect()
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    accepted = codes.get("ACCEPTED", 0) - accepted_before
    open_orders = len(h.gateway.book.open_orders)
    h.gateway.close()
    per = max(1, accepted)
    rows = []
    for stat in after.compare_to(before, "traceback")[:TOP]:
        frames = [f for f in stat.traceback if "/interlock/" in f.filename] or list(stat.traceback)
        where = " <- ".join(f"{_short(f.filename)}:{f.lineno}" for f in reversed(frames[-2:]))
        rows.append({"where": where, "bytes_per_order": stat.size_diff / per,
                     "blocks": stat.count_diff})  # fmt: skip
    by_file = [
        {"where": _short(s.traceback[0].filename), "bytes_per_order": s.size_diff / per}
        for s in after.compare_to(before, "filename")[:TOP]
        if s.size_diff > 0
    ]
    total = sum(s.size_diff for s in after.compare_to(before, "filename"))
    return {"warm": args.warm, "orders": args.orders, "accepted": accepted, "codes": codes,
            "open_at_end": open_orders, "retained_bytes_per_ended_order": total / per,
            "top": rows, "by_file": by_file}  # fmt: skip


def report(result: dict[str, Any]) -> None:
    console = Console()
    kept = result["retained_bytes_per_ended_order"]
    table = Table(title=f"Kept per ended order: {kept:.0f} B ({result['accepted']:,} accepted, "
                        f"{result['open_at_end']} open at the end)")  # fmt: skip
    table.add_column("where (file)")
    table.add_column("B/order", justify="right")
    for row in result["by_file"]:
        table.add_row(row["where"], f"{row['bytes_per_order']:.1f}")
    console.print(table)
    top = Table(title="by allocation site")
    top.add_column("where")
    top.add_column("B/order", justify="right")
    for row in result["top"]:
        top.add_row(row["where"], f"{row['bytes_per_order']:.1f}")
    console.print(top)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--warm", type=int, default=65_000)
    ap.add_argument("--orders", type=int, default=20_000)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="interlock-growth-") as tmp:
        result = measure(args, Path(tmp))
    report(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
