"""Memory: one gateway holding 10k symbols, 1k accounts and 100k open orders (issue 14).

The gateway is built as `interlock serve` builds it (`instance.build_instance`, the SQLite
journal through `open_journal` with the served settings, in a temp dir, the embedded
control plane), from the packaged config with 10k instruments, 1k accounts (each with
limits of its own and one API key) and limits sized so nothing refuses. A venue that
accepts and never fills keeps every order open. Orders arrive as a transport hands them
over: every string (account, symbol, strategy, ids) and the Decimal price are new objects
per order, as a JSON or FIX decoder makes them, and each carries an idempotency key (a
REST client's `Idempotency-Key`). Time is a manual clock moved 100 us per order (10k
orders/s), so rate windows and monitors see a plausible flow and the run is the same
every time; the lease is renewed and every reference price refreshed as time passes.

RSS is read from /proc/self/status (VmRSS, and VmHWM the peak) after the imports (serve's
too: FastAPI and uvicorn are in the baseline as in `interlock serve`), after
the build (references set), and once all orders are durable, released and open, each
after a full collection. A second, smaller run under `tracemalloc` says what holds the
memory, by file:line: everything live at the end, and what the orders added.

    python bench/memory.py [--orders N] [--symbols N] [--accounts N] [--universe N]
                           [--trace-orders N] [--json PATH]
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import tempfile
import tracemalloc
from collections.abc import Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any


def rss() -> dict[str, float]:
    """VmRSS (now) and VmHWM (the peak) of this process, in MB (2**20 bytes)."""
    fields: dict[str, float] = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0]) / 1024  # kB
    return fields


RSS_AT_START = rss()  # before Interlock (and rich) are imported

from rich.console import Console  # noqa: E402  (after the first reading, on purpose)
from rich.table import Table  # noqa: E402

from interlock.api.config import ServeConfig, load_config, parse_config  # noqa: E402
from interlock.api.service import Service  # noqa: E402, F401  (serve's stack, in the baseline)
from interlock.control.embedded import EmbeddedControlPlane  # noqa: E402
from interlock.domain.clock import ManualClock  # noqa: E402
from interlock.domain.commands import OrderRequest  # noqa: E402
from interlock.domain.decision import Decision  # noqa: E402
from interlock.domain.enums import OrderType, Side  # noqa: E402
from interlock.domain.order import Order  # noqa: E402
from interlock.gateway.config import hash_key  # noqa: E402
from interlock.gateway.gateway import Gateway  # noqa: E402
from interlock.gateway.journal_config import open_journal  # noqa: E402
from interlock.instance import build_instance  # noqa: E402
from interlock.venue.base import VenueOrder, VenueStatus  # noqa: E402

RSS_AFTER_IMPORT = rss()
START_NS = 1_754_056_800_000_000_000  # 2025-08-01 14:00 UTC; the calendar is 24/7 here
STEP_NS = 100_000  # 100 us of manual time per order: 10k orders/s
MID_TICKS = 10_000  # every reference price: 100.00
STRATEGIES = ("vwap", "twap", "pairs", "mm")
TOP = 15
MB = 1 << 20


class RestingVenue:
    """A venue that takes every order and never fills or cancels one: all stay open. It
    counts what it was sent and holds nothing (a real venue is another process)."""

    def __init__(self) -> None:
        self.sent = 0

    def send(self, order: Order) -> None:
        self.sent += 1

    def cancel(self, order_id: int) -> None:
        pass

    def reconcile(self, orders: Sequence[Order], timeout_s: float) -> VenueStatus:
        """It keeps no book: it vouches for nothing (a fresh journal asks about nothing)."""
        return VenueStatus({o.order_id: VenueOrder(o.order_id, known=False) for o in orders})


def account_name(a: int) -> str:
    return f"acct-{a:04d}"


def symbol_name(s: int) -> str:
    return f"S{s:05d}"


def memory_config(symbols: int, accounts: int, journal: Path) -> ServeConfig:
    """The packaged config with `symbols` instruments, `accounts` accounts (one API key
    and a limits table each), the 24/7 calendar and the journal at `journal`. The
    per-account limits and monitors stay the packaged ones; only the firm and instance
    totals are raised to what 1k accounts trading at 10k orders/s need."""
    data = load_config().model_dump(mode="json")
    data["instruments"] = {symbol_name(s): {"tick_size": "0.01"} for s in range(symbols)}
    data["api_keys"] = [
        {"principal": f"algo-{a}", "key_sha256": hash_key(f"key-{a}"),
         "accounts": [account_name(a)], "strategies": list(STRATEGIES)}
        for a in range(accounts)
    ]  # fmt: skip
    limits = data["limits"]
    limits["accounts"] = {
        account_name(a): {"max_position": 40_000 + a, "max_order_notional": "800000"}
        for a in range(accounts)
    }
    limits["firm"] = {"max_gross_notional": "100000000000", "restricted_symbols": []}
    limits["rates"]["per_instance"] = {"count": 50_000, "window_ms": 1_000}
    limits["collar"]["reference_max_age_ms"] = 5_000
    names = sorted(data["instruments"])  # sales are short sales of easy-to-borrow names
    limits["short_sale"] = {"easy_to_borrow": names}
    limits["adv"] = {"shares": dict.fromkeys(names, 100_000_000)}
    data["monitors"]["account_flow"]["instance_max_orders"] = 50_000
    data["monitors"]["reject_storm"] = {"instance_min_rejects": 50_000}
    data["calendar"] = {"always_open": True}
    data["journal"] = {"path": str(journal), "max_wait_ms": data["journal"]["max_wait_ms"]}
    return parse_config(data, "memory bench config")


def build(cfg: ServeConfig, clock: ManualClock) -> Gateway:
    """One instance as serve builds it: the served journal, the embedded plane, started,
    with a fresh reference price for every symbol."""
    journal = open_journal(cfg.journal, cfg.instance_id)
    plane = EmbeddedControlPlane(clock=clock)
    gw = build_instance(cfg, journal=journal, venue=RestingVenue(), plane=plane, clock=clock)
    refresh(gw)
    return gw


def refresh(gw: Gateway) -> None:
    for symbol in gw.instruments:
        gw.update_reference(symbol, MID_TICKS)


def requests(n: int, shape: argparse.Namespace, seed: int) -> Iterator[tuple[OrderRequest, str]]:
    """Limit orders near the mid, accounts in turn. Symbols at random among all (so nearly
    every order opens an account-and-symbol line of its own: the worst case for per-line
    state), or with `shape.universe` U > 0 among the account's own U symbols (account a
    trades a*U .. a*U+U-1). Every string and price is built afresh, as a transport's
    decoder builds them. Buys rest below the mid and sells above it (within the collar), so
    no order crosses a working one of its account: no SELF_TRADE. An account's orders cycle
    through 16 sizes and 50 prices a side, so none repeats one of its last 399: no
    DUPLICATE_ORDER."""
    rng = random.Random(seed)
    symbols, accounts, universe = shape.symbols, shape.accounts, shape.universe
    for i in range(n):
        a = i % accounts
        s = (
            (a * universe + rng.randrange(universe)) % symbols
            if universe
            else rng.randrange(symbols)
        )
        k = i // accounts  # the account's k-th order
        side = Side.BUY if rng.random() < 0.5 else Side.SELL_SHORT
        ticks = MID_TICKS - 1 - k % 50 if side is Side.BUY else MID_TICKS + 1 + k % 50
        price = Decimal(f"{ticks // 100}.{ticks % 100:02d}")
        request = OrderRequest(
            f"c{i:07d}", f"acct-{a:04d}", STRATEGIES[i % len(STRATEGIES)],
            f"S{s:05d}", side, 100 * (1 + k % 16),
            OrderType.LIMIT, price, idempotency_key=f"k-{a}-{i}",
        )  # fmt: skip
        yield request, f"key-{a}"


def submit_all(
    gw: Gateway, clock: ManualClock, n: int, shape: argparse.Namespace
) -> dict[str, int]:
    """Submit `n` orders, wait until every one is durable and released; codes counted."""
    codes: dict[str, int] = {}
    last: Decision | None = None
    for i, (req, key) in enumerate(requests(n, shape, seed=14)):
        if i % 1_000 == 0:
            gw.heartbeat()  # the lease, as serve's heartbeat thread renews it
            if i % 20_000 == 0 and i:
                refresh(gw)  # the feed: no reference gets older than 2 s of manual time
        clock.now += STEP_NS
        d = gw.submit(req, key)
        code = "ACCEPTED" if d.rejection is None else d.rejection.code.value
        codes[code] = codes.get(code, 0) + 1
        if d.order_id is not None:
            last = d
    gw.journal.flush(120)
    if last is not None:
        gw.wait(last, 120)
    gw.journal.flush(120)  # the release's `Routed` records too: nothing left queued
    return codes


def measure(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    clock = ManualClock(START_NS)
    cfg = memory_config(args.symbols, args.accounts, tmp / "journal.db")
    gw = build(cfg, clock)
    gc.collect()
    built = rss()
    codes = submit_all(gw, clock, args.orders, args)
    gc.collect()
    loaded = rss()
    open_orders = len(gw.book.open_orders)
    venue = gw.venue
    assert isinstance(venue, RestingVenue)
    sent = venue.sent
    if not sent == open_orders == codes.get("ACCEPTED"):  # a figure only of the state asked for
        raise SystemExit(f"not every order open at the venue: {codes}, {open_orders:,} open, "
                         f"{sent:,} sent")  # fmt: skip
    lines = sum(len(a.positions) for a in gw.book.accounts.values())
    gw.close()
    return {
        "orders": args.orders,
        "symbols": args.symbols,
        "accounts": args.accounts,
        "universe": args.universe,
        "lines": lines,  # account-and-symbol lines the orders opened
        "open_orders": open_orders,
        "sent_to_venue": sent,
        "codes": codes,
        "rss_mb_start": RSS_AT_START["VmRSS"],
        "rss_mb_after_import": RSS_AFTER_IMPORT["VmRSS"],
        "rss_mb_built": built["VmRSS"],
        "rss_mb_100k_open": loaded["VmRSS"],
        "hwm_mb_100k_open": loaded["VmHWM"],
        "bytes_per_symbol_and_account": (built["VmRSS"] - RSS_AFTER_IMPORT["VmRSS"])
        * MB
        / (args.symbols + args.accounts),
        "bytes_per_open_order": (loaded["VmRSS"] - built["VmRSS"]) * MB / max(1, open_orders),
    }


Stat = tracemalloc.Statistic | tracemalloc.StatisticDiff


def _rows(stats: Sequence[Stat], per: int, lines: bool = True) -> list[dict[str, Any]]:
    """file:line (or file), KiB, blocks and bytes per order of each statistic."""
    out = []
    for s in stats:
        frame = s.traceback[0]
        size = s.size_diff if isinstance(s, tracemalloc.StatisticDiff) else s.size
        count = s.count_diff if isinstance(s, tracemalloc.StatisticDiff) else s.count
        where = _short(frame.filename) + (f":{frame.lineno}" if lines else "")
        out.append({"where": where, "kib": size / 1024, "blocks": count,
                    "bytes_per_order": size / max(1, per)})  # fmt: skip
    return out


def _short(path: str) -> str:
    """Paths from the package root: interlock/risk/book.py, bench/memory.py, msgspec/..."""
    for marker, keep in (("/src/interlock/", "interlock/"), ("/bench/", "bench/"),
                         ("/site-packages/", ""), ("/lib/python3.11/", "")):  # fmt: skip
        if marker in path:
            return keep + path.split(marker, 1)[1]
    return path


def trace(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    """The smaller traced run: what is live after the build, and what the orders add."""
    n = args.trace_orders
    filters = [tracemalloc.Filter(False, tracemalloc.__file__),
               tracemalloc.Filter(False, "<frozen importlib._bootstrap*>")]  # fmt: skip
    clock = ManualClock(START_NS)
    cfg = memory_config(args.symbols, args.accounts, tmp / "traced.db")
    tracemalloc.start(1)
    gw = build(cfg, clock)
    gc.collect()
    built = tracemalloc.take_snapshot().filter_traces(filters)
    submit_all(gw, clock, n, args)
    gc.collect()
    loaded = tracemalloc.take_snapshot().filter_traces(filters)
    tracemalloc.stop()
    open_orders = len(gw.book.open_orders)
    gw.close()
    held = loaded.statistics("lineno")
    added = [d for d in loaded.compare_to(built, "lineno") if d.size_diff > 0]
    by_file = [d for d in loaded.compare_to(built, "filename") if d.size_diff > 0]
    total_built = sum(s.size for s in built.statistics("filename"))
    total_loaded = sum(s.size for s in held)
    return {
        "trace_orders": n,
        "traced_mb_built": total_built / MB,
        "traced_mb_loaded": total_loaded / MB,
        "traced_bytes_per_open_order": (total_loaded - total_built) / max(1, open_orders),
        "held_top": _rows(held[:TOP], open_orders),
        "per_order_top": _rows(added[:TOP], open_orders),
        "per_order_by_file": _rows(by_file[:TOP], open_orders, lines=False),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--orders", type=int, default=100_000)
    ap.add_argument("--symbols", type=int, default=10_000)
    ap.add_argument("--accounts", type=int, default=1_000)
    ap.add_argument(
        "--universe",
        type=int,
        default=0,
        help="symbols each account trades (0: any, at random: the worst case)",
    )
    ap.add_argument("--trace-orders", type=int, default=20_000)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="interlock-memory-") as tmp:
        result = measure(args, Path(tmp))
        gc.collect()
        result.update(trace(args, Path(tmp)))
    report(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, sort_keys=True))


def report(result: dict[str, Any]) -> None:
    console = Console()
    shape = f"{result['symbols']:,} symbols, {result['accounts']:,} accounts"
    table = Table(title=f"Interlock memory ({shape}, {result['orders']:,} open orders)")
    for col in ("metric", "value", "target", "met"):
        table.add_column(col)
    targets = {"rss_mb_100k_open": 150.0}
    for k, v in result.items():
        if isinstance(v, (list, dict)):
            continue
        t = targets.get(k)
        met = "" if t is None else ("yes" if v <= t else "NO")
        val = f"{v:,.1f}" if isinstance(v, float) else f"{v:,}"
        table.add_row(k, val, "" if t is None else f"<= {t:,}", met)
    console.print(table)
    console.print("codes:", result["codes"])
    n = f"{result['trace_orders']:,}"
    titles = {
        "held_top": f"traced run: live after the build and {n} orders, top {TOP} by file:line",
        "per_order_top": f"traced run: added by the {n} orders, top {TOP} by file:line",
        "per_order_by_file": f"traced run: added by the {n} orders, top {TOP} by file",
    }
    for key, title in titles.items():
        breakdown = Table(title=title)
        breakdown.add_column("where")
        for col in ("KiB", "blocks", "bytes/order"):
            breakdown.add_column(col, justify="right")
        for row in result[key]:
            breakdown.add_row(row["where"], f"{row['kib']:,.1f}", f"{row['blocks']:,}",
                              f"{row['bytes_per_order']:,.1f}")  # fmt: skip
        console.print(breakdown)
    console.print("bench/memory.py lines: the requests' own strings and integers, which the "
                  "gateway keeps (made there, as a transport's decoder makes them)")  # fmt: skip


if __name__ == "__main__":
    main()
