"""Admin latency while the order ports are flooded, against the same serve idle.

One real `interlock serve` (sim/flood.py's config: every rate envelope out of reach, so
orders reach the gateway; `--sessions` FIX desks). The admin port is timed from this
process, one request in flight, in two phases on the same serve:

- idle: nothing else talks to serve.
- flood: `--sessions` FIX sessions send NewOrderSingles back to back (at most 50
  unanswered each), `--churn-threads` threads open and drop TCP connections to the FIX port
  (garbage or silence), and `--rest-threads` threads POST /orders back to back.

Between the two, the REST threads run alone for 3 s: `rest_alone_orders_per_s`, against
`flood_rest_orders_per_s` once the FIX flood joins them. Each phase times `--samples` GET
/fleet (the status view) and `--halts` symbol halts (POST /halt scope symbol, MSFT, which
the flood does not trade; each lifted again before the next): p50 and p99 of the HTTP round
trip, and flood / idle ratios. Then one global halt under the flood, and the count of FIX
orders sent after it returned that were not refused HALTED (must be 0). The client shares
this process (and the machine's cores) with the flood's clients: the figures are an upper
bound on what serve itself adds.

    python bench/admin_under_flood.py [--sessions 4] [--churn-threads 2] [--rest-threads 2]
                                      [--samples 300] [--halts 30]
                                      [--json bench/results/admin_under_flood.json]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from interlock.sim.flood import ConnectChurn, FixFlood, flood_config
from interlock.sim.harness import DESK_KEY
from interlock.sim.procs import die_with_parent, stop_process
from interlock.sim.serve_fleet import ADMIN_TOKEN, wait_until

REST_ALONE_S = 3.0
ANNOUNCED = re.compile(r"(rest|admin|fix acceptor) listening on (\S+)")


def pct(xs: list[float], q: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, round(q / 100 * (len(s) - 1)))]


def start_serve(config: Path) -> tuple[subprocess.Popen[bytes], dict[str, str], list[str]]:
    argv = [sys.executable, "-m", "interlock.cli", "serve", "--config", str(config)]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, preexec_fn=die_with_parent)  # fmt: skip
    urls: dict[str, str] = {}
    output: list[str] = []

    def read() -> None:
        assert proc.stdout is not None
        for raw in proc.stdout:
            line = raw.decode(errors="replace").rstrip()
            output.append(line)
            if m := ANNOUNCED.search(line):
                urls[m.group(1)] = m.group(2)

    threading.Thread(target=read, daemon=True).start()
    wait_until(lambda: len(urls) == 3 or proc.poll() is not None, 60, "serve announced")
    if len(urls) != 3:
        raise RuntimeError("serve did not start:\n" + "\n".join(output[-30:]))
    return proc, urls, output


def time_admin(admin: httpx.Client, samples: int, halts: int) -> dict[str, list[float]]:
    """Round trips in ms: GET /fleet `samples` times, then `halts` symbol halts (each lifted)."""
    status, halt = [], []
    for _ in range(samples):
        t0 = time.perf_counter()
        r = admin.get("/fleet")
        status.append((time.perf_counter() - t0) * 1_000)
        r.raise_for_status()
    for i in range(halts):
        t0 = time.perf_counter()
        r = admin.post("/halt", json={"scope": "symbol", "target": "MSFT", "reason": f"b{i}"})
        halt.append((time.perf_counter() - t0) * 1_000)
        r.raise_for_status()
        admin.post("/resume", json={"scope": "symbol", "target": "MSFT"}).raise_for_status()
    return {"status": status, "halt": halt}


def rest_flood(url: str, worker: int, stop: threading.Event, sent: list[int]) -> None:
    opts = [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]
    with httpx.Client(base_url=url, timeout=10, headers={"Authorization": f"Bearer {DESK_KEY}"},
                      transport=httpx.HTTPTransport(socket_options=opts)) as c:  # fmt: skip
        n = 0
        while not stop.is_set() and n < 1_000_000:
            n += 1
            c.post("/orders", json={"client_order_id": f"r{worker}-{n}", "account": "desk-7",
                                    "strategy": "vwap", "symbol": "AAPL", "side": "sell",
                                    "quantity": 1 + n, "limit_price": "101.00"})  # fmt: skip
            sent[worker] += 1


def run(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    load = round(os.getloadavg()[0], 2)  # the machine is shared: say how busy it was
    proc, urls, _output = start_serve(flood_config(work, args.sessions))
    fix_flood = churn = None
    stop_rest = threading.Event()
    rest_sent = [0] * args.rest_threads
    rest_threads = [threading.Thread(target=rest_flood, args=(urls["rest"], w, stop_rest,
                                     rest_sent), daemon=True)
                    for w in range(args.rest_threads)]  # fmt: skip
    try:
        host, port = urls["fix acceptor"].rsplit(":", 1)
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        with httpx.Client(base_url=urls["admin"], headers=headers, timeout=30) as admin:
            time_admin(admin, 20, 2)  # warm: imports, first connections
            idle = time_admin(admin, args.samples, args.halts)
            for t in rest_threads:  # REST alone first: its rate without the FIX flood
                t.start()
            wait_until(lambda: sum(rest_sent) >= 20, 60, "the REST flood running")
            a0, ta0 = sum(rest_sent), time.perf_counter()
            time.sleep(REST_ALONE_S)  # a measuring window, not a wait for a condition
            rest_alone = (sum(rest_sent) - a0) / (time.perf_counter() - ta0)
            fix_flood = FixFlood(work, int(port), args.sessions, host=host, max_orders=10**7,
                                 max_s=600).start()  # fmt: skip
            churn = ConnectChurn(host, int(port), threads=args.churn_threads, max_s=600).start()
            wait_until(lambda: fix_flood.answered() >= 500, 60, "the FIX flood answered")
            f0, c0, r0, t0 = (
                fix_flood.answered(),
                churn.attempts,
                sum(rest_sent),
                time.perf_counter(),
            )
            flood = time_admin(admin, args.samples, args.halts)
            f1, c1, r1, t1 = (
                fix_flood.answered(),
                churn.attempts,
                sum(rest_sent),
                time.perf_counter(),
            )
            h0 = time.perf_counter()
            r = admin.post("/halt", json={"scope": "global", "reason": "bench: end of flood"})
            halted_at = time.perf_counter()
            r.raise_for_status()
            global_halt_ms = (halted_at - h0) * 1_000
            wait_until(lambda: len(fix_flood.answers_sent_after(halted_at)) >= 50, 60,
                       "FIX orders after the halt answered")  # fmt: skip
            after = fix_flood.answers_sent_after(halted_at)
        mix = Counter(txt.split(":")[0] if s == "8" else "accepted" for d in fix_flood.desks
                      for _, s, txt in d.answered())  # fmt: skip
    finally:
        stop_rest.set()
        for t in rest_threads:
            t.join(15)
        for running in (fix_flood, churn):
            if running is not None:
                running.stop()
        stop_process(proc)
    span = t1 - t0
    out: dict[str, Any] = {
        "load_avg_1m_at_start": load, "cpus": os.cpu_count(),
        "sessions": args.sessions, "churn_threads": args.churn_threads,
        "rest_threads": args.rest_threads, "samples": args.samples, "halts": args.halts,
        "flood_fix_answers_per_s": round((f1 - f0) / span),
        "flood_fix_connects_per_s": round((c1 - c0) / span),
        "flood_rest_orders_per_s": round((r1 - r0) / span),
        "rest_alone_orders_per_s": round(rest_alone),
        "fix_answer_mix": dict(mix.most_common()),
        "global_halt_under_flood_ms": round(global_halt_ms, 2),
        "fix_orders_after_halt": len(after),
        "fix_orders_after_halt_not_halted": sum(1 for s, t in after
                                                if s != "8" or not t.startswith("HALTED")),
    }  # fmt: skip
    for what in ("status", "halt"):
        for q in (50, 99):
            i, f = pct(idle[what], q), pct(flood[what], q)
            out[f"{what}_idle_p{q}_ms"] = round(i, 2)
            out[f"{what}_flood_p{q}_ms"] = round(f, 2)
            out[f"{what}_p{q}_flood_over_idle"] = round(f / i, 2)
        out[f"{what}_flood_max_ms"] = round(max(flood[what]), 2)
    out["status_idle_stdev_ms"] = round(statistics.pstdev(idle["status"]), 2)
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--sessions", type=int, default=4)
    p.add_argument("--churn-threads", type=int, default=2)
    p.add_argument("--rest-threads", type=int, default=2)
    p.add_argument("--samples", type=int, default=300)
    p.add_argument("--halts", type=int, default=30)
    p.add_argument("--json", type=Path, default=None)
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="admin-flood-") as tmp:
        out = run(args, Path(tmp))
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=2) + "\n")
    t = Table(title=f"admin port: idle vs flooded ({out['flood_fix_answers_per_s']:,} FIX "
                    f"answers/s, {out['flood_fix_connects_per_s']:,} connects/s, "
                    f"{out['flood_rest_orders_per_s']:,} REST orders/s, "
                    f"{out['rest_alone_orders_per_s']:,} without the FIX flood)")  # fmt: skip
    for col in ("call", "idle p50 ms", "flood p50 ms", "ratio", "idle p99 ms", "flood p99 ms",
                "ratio", "flood max ms"):  # fmt: skip
        t.add_column(col, justify="right")
    for what, name in (("status", "GET /fleet"), ("halt", "POST /halt (symbol)")):
        t.add_row(name, *(str(out[k]) for k in (
            f"{what}_idle_p50_ms", f"{what}_flood_p50_ms", f"{what}_p50_flood_over_idle",
            f"{what}_idle_p99_ms", f"{what}_flood_p99_ms", f"{what}_p99_flood_over_idle",
            f"{what}_flood_max_ms")))  # fmt: skip
    console = Console(width=150)
    console.print(t)
    console.print(f"global halt under flood: {out['global_halt_under_flood_ms']} ms; FIX orders "
                  f"sent after it: {out['fix_orders_after_halt']}, not HALTED: "
                  f"{out['fix_orders_after_halt_not_halted']}; FIX answers: "
                  f"{out['fix_answer_mix']}")  # fmt: skip
    return out


if __name__ == "__main__":
    main()
