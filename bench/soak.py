"""Soak: `interlock serve` for minutes at half its measured capacity, FIX and REST mixed.

One real serve process (the packaged config, sized up for the load: see `SOAK_LIMITS`;
every check stays on) on loopback, with its FIX acceptor and the simulated venue, which
fills marketable orders. Two desks drive it from this process:

- FIX: session DESK1 (account desk-7), orders sent without waiting, acked by the
  ExecutionReport New (or a fill) that serve sends once the decision is durable;
- REST: `--rest-threads` keep-alive clients (account mm-1), each POST answered once durable.

Three orders in four are marketable IOC and fill (in part half the time: the venue
cancels the rest); the fourth is a DAY order that rests and is cancelled as soon as it is
acked. A desk buys a symbol for 200 of its orders, then sells it for 200: an order that
crossed the desk's own working order would be refused SELF_TRADE (pipelined, a marketable
order is still working when the next arrives), so sides flip seldom. Sells are
`sell_short` on symbols the soak config lists easy to borrow, so the Reg SHO checks run
without a locate book. Prices and sizes cycle so that no two orders inside the duplicate
window are the same.

First `--capacity-seconds` of closed-loop load measure what serve sustains (orders/s);
then `--minutes` at `--load` (0.5) of it, paced. Every `--window-s` (60) the run records:
orders sent and acked per interface, ack latency p50/p99 (send to ack, measured here),
decide p50/p99 (from serve's own `interlock_decide_seconds` histogram, the bucket bound
the percentile falls in), serve's RSS (/proc), the journal's size, fills, cancels and
refusals by code. At the end serve stops on SIGTERM, `interlock journal verify` audits
the journal, and every order acked to a client is looked up in it: `lost` counts those
missing. Slopes are least squares over the windows (per minute), so "flat" is a figure.

The load generator shares the machine's cores with serve: a figure here is serve and its
clients together, as on a desk's own box.

    python bench/soak.py [--minutes 10] [--capacity-seconds 20] [--load 0.5]
                         [--window-s 60] [--rest-threads 4] [--json PATH]
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families
from rich.console import Console
from rich.table import Table

from interlock.domain.events import OrderDecided
from interlock.journal.sqlite import SqliteJournal
from interlock.sim.fix import Fields, FixClient, free_port
from interlock.sim.harness import DESK_KEY, MM_KEY
from interlock.sim.serve_fleet import ADMIN_TOKEN, ServeFleet

SYMBOLS = ("AAPL", "MSFT", "AMZN", "NVDA", "GOOG", "META", "JPM", "XOM")
_HUGE = "100000000000"
_FAST = {"count": 1_000_000, "window_ms": 1_000}
SOAK_LIMITS: dict[str, Any] = {
    "limits": {
        "firm": {"max_gross_notional": _HUGE},
        "defaults": {
            "max_position": 100_000_000, "max_gross_notional": _HUGE, "credit_limit": _HUGE,
            "daily_loss_limit": _HUGE, "max_orders_per_second": 1_000_000,
            "max_orders_per_minute": 60_000_000, "max_notional_per_second": _HUGE,
            "max_notional_per_minute": _HUGE,
        },
        "accounts": {
            "desk-7": {"max_position": 100_000_000, "daily_loss_limit": _HUGE},
            "mm-1": {"max_notional_per_second": _HUGE, "max_notional_per_minute": _HUGE,
                     "max_gross_notional": _HUGE},
        },
        "rates": {"per_instance": _FAST, "per_strategy": _FAST, "per_symbol": _FAST},
        "messages": {"per_session": _FAST, "per_instance": _FAST},
        "short_sale": {"easy_to_borrow": list(SYMBOLS)},
    },
    "monitors": {
        "account_flow": {"max_orders": 1_000_000, "instance_max_orders": 1_000_000,
                         "window_ms": 1_000},
        "traded_notional": {"max_notional": _HUGE, "window_ms": 10_000},
    },
}  # fmt: skip
"""What the soak raises in the packaged config: the sizes of a small desk, not the checks."""


def _order(i: int) -> tuple[str, str, int, str, bool]:
    """Order `i` of a desk: (symbol, side, qty, price, passive). Marketable three in four
    (the sim venue's touch is 99.99/100.01); the fourth rests, to be cancelled."""
    symbol = SYMBOLS[i % len(SYMBOLS)]
    buy = (i // (len(SYMBOLS) * 200)) % 2 == 0  # a symbol's side flips every 200 of its orders
    passive = i % 4 == 3
    qty = 100 + (i // len(SYMBOLS)) % 1_000  # the same order again: 16,000 orders on
    step = i % 5  # cents further from the touch
    if passive:
        cents = 9_990 - step if buy else 10_010 + step
    else:
        cents = 10_002 + step if buy else 9_998 - step
    return symbol, "buy" if buy else "sell_short", qty, f"{cents // 100}.{cents % 100:02d}", passive


@dataclass
class Window:
    """What one interface did in one window."""

    sent: int = 0
    acked: int = 0
    refused: Counter[str] = field(default_factory=Counter)
    cancels: int = 0
    errors: int = 0  # 5xx, transport errors, answers that are neither ack nor refusal
    latencies: list[float] = field(default_factory=list)  # send -> ack, seconds


class Recorder:
    """Per-window tallies of both desks, and every client order id acked (for `lost`)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.windows: list[dict[str, Window]] = [self._new()]
        self.acked_ids: set[str] = set()

    @staticmethod
    def _new() -> dict[str, Window]:
        return {"fix": Window(), "rest": Window()}

    def roll(self) -> dict[str, Window]:
        with self._lock:
            done = self.windows[-1]
            self.windows.append(self._new())
            return done

    def sent(self, leg: str) -> None:
        with self._lock:
            self.windows[-1][leg].sent += 1

    def acked(self, leg: str, cl_ord_id: str, latency_s: float) -> None:
        with self._lock:
            w = self.windows[-1][leg]
            w.acked += 1
            w.latencies.append(latency_s)
            self.acked_ids.add(cl_ord_id)

    def refused(self, leg: str, code: str) -> None:
        with self._lock:
            self.windows[-1][leg].refused[code] += 1

    def cancelled(self, leg: str) -> None:
        with self._lock:
            self.windows[-1][leg].cancels += 1

    def error(self, leg: str) -> None:
        with self._lock:
            self.windows[-1][leg].errors += 1


class Pacer:
    """Releases `rate` tokens a second to its callers (0: as fast as they ask); `stop`."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self._next = time.monotonic()
        self._lock = threading.Lock()
        self.stopped = threading.Event()

    def take(self) -> bool:
        if self.stopped.is_set():
            return False
        if self.rate <= 0:
            return True
        with self._lock:
            at = self._next = max(self._next + 1 / self.rate, time.monotonic() - 0.05)
        delay = at - time.monotonic()
        if delay > 0:
            self.stopped.wait(delay)  # the load's schedule, not a test's wait
        return not self.stopped.is_set()


class FixDesk:
    """DESK1 over FIX: sends paced, at most `window` unanswered; cancels the passive ones."""

    def __init__(self, root: Path, port: int, rec: Recorder, window: int = 64) -> None:
        self.client = FixClient(root / "fix-desk", port, "DESK1", "desk-7-algo", DESK_KEY,
                                file_log=False)  # fmt: skip
        self.client.on_message = self._on_message
        self.rec = rec
        self._sent: dict[str, tuple[float, bool]] = {}
        self._lock = threading.Lock()
        self._free = threading.Semaphore(window)
        self._ids = itertools.count()

    def start(self) -> None:
        if not self.client.start(timeout=20):
            raise RuntimeError("the FIX desk could not log on")

    def _on_message(self, m: Fields) -> None:
        if m.get(35) != "8":
            return
        cl, status = m.get(11, ""), m.get(150)
        if cl.startswith("x"):  # a cancel's own report
            return
        with self._lock:
            pending = self._sent.pop(cl, None) if status in ("0", "1", "2", "8") else None
        if pending is None:
            return
        self._free.release()
        sent_at, passive = pending
        if status == "8":
            self.rec.refused("fix", m.get(58, "?").split(":", 1)[0])
            return
        self.rec.acked("fix", cl, time.perf_counter() - sent_at)
        if passive and status == "0":
            self.client.cancel(f"x{cl}", cl)
            self.rec.cancelled("fix")

    def run(self, pacer: Pacer) -> None:
        while pacer.take():
            while not self._free.acquire(timeout=0.5):
                if pacer.stopped.is_set():
                    return
            i = next(self._ids)
            symbol, side, qty, price, passive = _order(i)
            cl = f"f{i}"
            with self._lock:
                self._sent[cl] = (time.perf_counter(), passive)
            self.client.new_order(
                cl,
                symbol,
                "1" if side == "buy" else "5",
                qty,
                price,
                extra=None if passive else {59: "3"},
            )  # marketable: IOC
            self.rec.sent("fix")

    def unanswered(self) -> int:
        with self._lock:
            return len(self._sent)


class RestDesk:
    """mm-1 over REST: one keep-alive client per thread, each POST answered once durable."""

    def __init__(self, url: str, rec: Recorder, ids: Iterator[int]) -> None:
        self.http = httpx.Client(base_url=url, timeout=10.0,
                                 headers={"Authorization": f"Bearer {MM_KEY}"})  # fmt: skip
        self.rec = rec
        self.ids = ids  # one count shared by every REST thread of the run: no order twice

    def run(self, pacer: Pacer) -> None:
        try:
            while pacer.take():
                self._one(next(self.ids))
        finally:
            self.http.close()

    def _one(self, i: int) -> None:
        symbol, side, qty, price, passive = _order(i)
        cl = f"r{i}"
        body = {"client_order_id": cl, "account": "mm-1", "strategy": "mm", "symbol": symbol,
                "side": side, "quantity": qty, "limit_price": price,
                "time_in_force": "day" if passive else "ioc"}  # fmt: skip
        self.rec.sent("rest")
        start = time.perf_counter()
        try:
            r = self.http.post("/orders", json=body)
        except httpx.HTTPError:
            self.rec.error("rest")
            return
        if r.status_code == 201:
            self.rec.acked("rest", cl, time.perf_counter() - start)
            if passive:
                try:
                    c = self.http.delete(f"/orders/{r.json()['order_id']}")
                    (self.rec.cancelled if c.status_code == 202 else self.rec.error)("rest")
                except httpx.HTTPError:
                    self.rec.error("rest")
        elif r.status_code < 500 and "code" in r.json():
            self.rec.refused("rest", r.json()["code"])
        else:
            self.rec.error("rest")


# -- what serve says of itself -------------------------------------------------------------


def _scrape(admin_url: str) -> tuple[list[tuple[float, float]], float]:
    """serve's decide histogram (cumulative (bound s, count)) and its fills counter."""
    text = httpx.get(f"{admin_url}/metrics", timeout=10,
                     headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}).text  # fmt: skip
    buckets: list[tuple[float, float]] = []
    fills = 0.0
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == "interlock_decide_seconds_bucket":
                buckets.append((float(s.labels["le"]), s.value))
            elif s.name == "interlock_fills_total":
                fills = s.value
    return sorted(buckets), fills


def bucket_percentile(old: list[tuple[float, float]], new: list[tuple[float, float]],
                      q: float) -> float:  # fmt: skip
    """The bound (s) of the bucket holding the `q` percentile of what was observed between
    two scrapes of one cumulative histogram; nan if nothing was."""
    diffs = [(b, n - o) for (b, n), (_, o) in zip(new, old, strict=True)]
    total = diffs[-1][1] if diffs else 0
    if total <= 0:
        return float("nan")
    counts = [c for _, c in diffs]
    return diffs[bisect.bisect_left(counts, q / 100 * total)][0]


@dataclass
class Scrape:
    """serve's decide histogram and fills counter at `t` (monotonic s): a window's start."""

    buckets: list[tuple[float, float]]
    fills: float
    t: float


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _journal_mb(path: Path) -> float:
    files = [path, path.with_name(path.name + "-wal")]
    return sum(f.stat().st_size for f in files if f.exists()) / 1e6


def _pct(xs: list[float], q: float) -> float:
    if not xs:
        return float("nan")
    ordered = sorted(xs)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


def slope(ys: list[float]) -> float:
    """Least-squares slope of `ys` over their index; 0 for fewer than two points."""
    pts = [(i, y) for i, y in enumerate(ys) if y == y]  # drop nan
    if len(pts) < 2:
        return 0.0
    mx = statistics.fmean(i for i, _ in pts)
    my = statistics.fmean(y for _, y in pts)
    den = sum((i - mx) ** 2 for i, _ in pts)
    return sum((i - mx) * (y - my) for i, y in pts) / den


# -- the run -------------------------------------------------------------------------------


def _drive(fix: FixDesk, rest_url: str, rest_ids: Iterator[int], rec: Recorder, rate: float,
           threads: int,
           seconds: float, on_tick: Any = None, tick_s: float = 0.0) -> None:  # fmt: skip
    """Load both desks for `seconds` at `rate` orders/s in all (0: closed loop), half each."""
    fix_pacer, rest_pacer = Pacer(rate / 2), Pacer(rate / 2)
    workers = [threading.Thread(target=fix.run, args=(fix_pacer,), name="soak-fix")]
    for n in range(threads):
        desk = RestDesk(rest_url, rec, rest_ids)
        workers.append(threading.Thread(target=desk.run, args=(rest_pacer,), name=f"soak-rest{n}"))
    for w in workers:
        w.start()
    start = time.monotonic()
    next_tick = start + tick_s if tick_s else float("inf")
    while (now := time.monotonic()) < start + seconds:
        time.sleep(min(0.1, start + seconds - now))
        if now >= next_tick and on_tick is not None:
            on_tick()
            next_tick += tick_s
    fix_pacer.stopped.set()
    rest_pacer.stopped.set()
    for w in workers:
        w.join(30)


def lost_orders(acked: set[str], journal: Path) -> list[str]:
    """The client order ids acked to a desk that the journal holds no accepted order for."""
    j = SqliteJournal(journal, background=False)
    try:
        kept = {e.request.client_order_id for _, e in j.read()
                if isinstance(e, OrderDecided) and e.order_id is not None
                and e.request is not None}  # fmt: skip
    finally:
        j.close()
    return sorted(acked - kept)


def run(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    load_before = os.getloadavg()
    port = free_port()
    fix_cfg = {"fix": {"port": port, "file_log": False, "sessions": [
        {"comp_id": "DESK1", "username": "desk-7-algo", "account": "desk-7",
         "strategy": "vwap"}]}}  # fmt: skip
    extra = {**SOAK_LIMITS, **fix_cfg}
    fleet = ServeFleet(work, "embedded", extra=extra)
    serve = fleet.start("gw-1").wait_started(60)
    journal = serve.workdir / "journal.db"
    rec = Recorder()
    fix = FixDesk(work, port, rec)
    try:
        fix.start()
        # capacity: closed loop
        t0 = time.monotonic()
        rest_ids = itertools.count()
        _drive(fix, serve.rest_url, rest_ids, rec, 0, args.rest_threads, args.capacity_seconds)
        cap_window = rec.roll()
        elapsed = time.monotonic() - t0
        capacity = sum(w.acked + sum(w.refused.values()) for w in cap_window.values()) / elapsed
        rate = capacity * args.load
        windows: list[dict[str, Any]] = []
        buckets0, fills0 = _scrape(serve.admin_url)
        state = Scrape(buckets0, fills0, time.monotonic())

        def tick() -> None:
            done = rec.roll()
            buckets, fills = _scrape(serve.admin_url)
            now = time.monotonic()
            lat = done["fix"].latencies + done["rest"].latencies
            refused = done["fix"].refused + done["rest"].refused
            windows.append({
                "minute": round((now - soak_start) / 60, 2),
                "orders_per_s": round(sum(w.acked + sum(w.refused.values())
                                          for w in done.values()) / (now - state.t), 1),
                "fix_sent": done["fix"].sent, "fix_acked": done["fix"].acked,
                "rest_sent": done["rest"].sent, "rest_acked": done["rest"].acked,
                "cancels": done["fix"].cancels + done["rest"].cancels,
                "fills": int(fills - state.fills),
                "refused": dict(refused), "errors": done["fix"].errors + done["rest"].errors,
                "ack_p50_ms": round(_pct(lat, 50) * 1e3, 3),
                "ack_p99_ms": round(_pct(lat, 99) * 1e3, 3),
                "fix_ack_p99_ms": round(_pct(done["fix"].latencies, 99) * 1e3, 3),
                "rest_ack_p99_ms": round(_pct(done["rest"].latencies, 99) * 1e3, 3),
                "decide_p50_us": bucket_percentile(state.buckets, buckets, 50) * 1e6,
                "decide_p99_us": bucket_percentile(state.buckets, buckets, 99) * 1e6,
                "rss_mb": round(_rss_mb(serve.proc.pid), 1),
                "journal_mb": round(_journal_mb(journal), 2),
            })  # fmt: skip
            state.buckets, state.fills, state.t = buckets, fills, now

        soak_start = time.monotonic()
        _drive(fix, serve.rest_url, rest_ids, rec, rate, args.rest_threads, args.minutes * 60,
               on_tick=tick, tick_s=args.window_s)  # fmt: skip
        if not windows or time.monotonic() - state.t > args.window_s / 4:
            tick()  # the last, partial window
        deadline = time.monotonic() + 30
        while fix.unanswered() and time.monotonic() < deadline:
            time.sleep(0.05)  # the last acks in flight
        unanswered = fix.unanswered()
        halts = serve.admin("GET", "/halts")
    finally:
        fix.client.stop()
        serve.stop(30)
    exit_code = serve.proc.returncode
    verify = subprocess.run([sys.executable, "-m", "interlock.cli", "journal", "verify",
                             str(journal)], capture_output=True, text=True)  # fmt: skip
    lost = lost_orders(rec.acked_ids, journal)
    return {
        "capacity_orders_per_s": round(capacity, 1),
        "target_orders_per_s": round(rate, 1),
        "load": args.load,
        "minutes": args.minutes,
        "window_s": args.window_s,
        "windows": windows,
        "acked": len(rec.acked_ids),
        "lost": len(lost),
        "lost_examples": lost[:10],
        "unanswered_fix": unanswered,
        "errors": sum(w["errors"] for w in windows),
        "halts_at_end": [f"{h['scope']}:{h['target']} by {h['who']}: {h['reason']}" for h in halts],
        "serve_exit_code": exit_code,
        "journal_verify_exit": verify.returncode,
        "journal_verify_tail": verify.stdout.strip().splitlines()[-3:],
        "slope_per_min": {
            k: round(slope([w[k] for w in windows]) * 60 / args.window_s, 4)
            for k in (
                "ack_p50_ms",
                "ack_p99_ms",
                "decide_p50_us",
                "decide_p99_us",
                "rss_mb",
                "journal_mb",
                "orders_per_s",
            )
        },
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "limits_raised": SOAK_LIMITS,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--minutes", type=float, default=10.0)
    p.add_argument("--capacity-seconds", type=float, default=20.0)
    p.add_argument("--load", type=float, default=0.5, help="share of capacity to soak at")
    p.add_argument("--window-s", type=float, default=60.0)
    p.add_argument("--rest-threads", type=int, default=4)
    p.add_argument("--json", type=Path, default=Path("bench/results/soak.json"))
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="interlock-soak-") as tmp:
        out = run(args, Path(tmp))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(out, indent=2) + "\n")
    _print(out)
    return out


def _print(out: dict[str, Any]) -> None:
    t = Table(title=f"soak at {out['target_orders_per_s']:,} orders/s "
                    f"(capacity {out['capacity_orders_per_s']:,})")  # fmt: skip
    for col in ("min", "orders/s", "fills", "cancels", "refused", "ack p50 ms", "ack p99 ms",
                "decide p50 µs", "decide p99 µs", "RSS MB", "journal MB"):  # fmt: skip
        t.add_column(col, justify="right")
    for w in out["windows"]:
        t.add_row(f"{w['minute']:.2f}", f"{w['orders_per_s']:,.0f}", str(w["fills"]),
                  str(w["cancels"]), str(sum(w["refused"].values())), f"{w['ack_p50_ms']:.2f}",
                  f"{w['ack_p99_ms']:.2f}", f"{w['decide_p50_us']:.0f}",
                  f"{w['decide_p99_us']:.0f}", f"{w['rss_mb']:.1f}",
                  f"{w['journal_mb']:.1f}")  # fmt: skip
    console = Console()
    console.print(t)
    console.print(f"acked {out['acked']:,}, lost {out['lost']}, errors {out['errors']}, "
                  f"journal verify exit {out['journal_verify_exit']}, serve exit "
                  f"{out['serve_exit_code']}; halts {out['halts_at_end']}; "
                  f"slope per minute {out['slope_per_min']}")  # fmt: skip


if __name__ == "__main__":
    main()
