"""What FIX over TLS costs: order-to-ack latency through a real `interlock serve`, plain
FIX against the same serve config with `[fix] tls_cert`/`tls_key` (TLS terminated in
front of QuickFIX, api/fix/tls_front.py), and the TLS handshake + Logon time.

Each leg is its own serve (sim/flood.py's config, one FIX desk); one QuickFIX client
(`SSLSocketInitiator` for the TLS leg) sends `--orders` NewOrderSingles one at a time, each
after the previous one's ExecutionReport: p50/p99 send-to-ack, and `tls_over_plain`. The
legs alternate for `--rounds` rounds (the machine is shared: one round is noisy); the
percentiles are over every ack of a leg.

    python bench/fix_tls_roundtrip.py [--orders 300] [--rounds 2]
                                      [--json bench/results/fix_tls_roundtrip.json]
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from admin_under_flood import pct, start_serve
from interlock.fixengine.engine import FixTls
from interlock.sim.fix_client import FixClient
from interlock.sim.flood import flood_config
from interlock.sim.harness import DESK_KEY
from interlock.sim.procs import stop_process
from interlock.sim.tls import make_tls


def leg(work: Path, orders: int, tls: bool, tag: str) -> tuple[list[float], float]:
    """(send-to-ack ms of each order, logon ms) on a fresh serve."""
    client_tls, keys = None, {}
    if tls:
        files = make_tls(work / "tls")
        keys = {"tls_cert": str(files.server_cert), "tls_key": str(files.server_key)}
        client_tls = FixTls(ca=str(files.ca_cert))
    config = flood_config(work, 1, fix=keys)
    proc, urls, _ = start_serve(config)
    try:
        host, port = urls["fix acceptor"].split(" ")[0].rsplit(":", 1)
        client = FixClient(work / "desk", int(port), "DESK1", "desk-7-algo", DESK_KEY,
                           file_log=False, host=host, tls=client_tls, qualifier=tag)  # fmt: skip
        acks: queue.Queue[tuple[str, float]] = queue.Queue()
        client.on_message = lambda m: acks.put((m.get(11, ""), time.perf_counter()))
        t0 = time.perf_counter()
        if not client.start(timeout=15):
            raise RuntimeError("the bench desk did not log on")
        logon_ms = (time.perf_counter() - t0) * 1_000
        out = []
        for n in range(orders):
            cl = f"{tag}-{n}"
            sent = time.perf_counter()
            client.new_order(cl, qty=1 + n % 89, price=f"{99.80 + n % 40 / 100:.2f}")
            while (got := acks.get(timeout=10))[0] != cl:  # fills of earlier orders: skip
                pass
            out.append((got[1] - sent) * 1_000)
        client.stop()
        return out, logon_ms
    finally:
        stop_process(proc)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--orders", type=int, default=300)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--json", type=Path, default=None)
    args = p.parse_args(argv)
    lat: dict[str, list[float]] = {"plain": [], "tls": []}
    logon: dict[str, list[float]] = {"plain": [], "tls": []}
    load = round(os.getloadavg()[0], 2)
    with tempfile.TemporaryDirectory(prefix="fix-tls-") as tmp:
        for r in range(args.rounds):
            for name in ("plain", "tls"):
                got, ms = leg(Path(tmp) / f"{name}{r}", args.orders, name == "tls", f"{name}{r}")
                lat[name] += got
                logon[name].append(ms)
    out: dict[str, Any] = {"orders_per_leg": args.orders, "rounds": args.rounds,
                           "load_avg_1m_at_start": load, "cpus": os.cpu_count()}  # fmt: skip
    for name in ("plain", "tls"):
        out[f"{name}_ack_p50_ms"] = round(pct(lat[name], 50), 3)
        out[f"{name}_ack_p99_ms"] = round(pct(lat[name], 99), 3)
        out[f"{name}_logon_ms_median"] = round(statistics.median(logon[name]), 1)
    for q in (50, 99):
        out[f"tls_over_plain_p{q}"] = round(out[f"tls_ack_p{q}_ms"] / out[f"plain_ack_p{q}_ms"], 2)
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=2) + "\n")
    t = Table(title=f"FIX order-to-ack through serve, {args.orders} orders x {args.rounds} rounds")
    for col in ("leg", "ack p50 ms", "ack p99 ms", "logon ms (median)"):
        t.add_column(col, justify="right")
    for name in ("plain", "tls"):
        t.add_row(name, *(str(out[f"{name}_{k}"]) for k in ("ack_p50_ms", "ack_p99_ms",
                                                          "logon_ms_median")))  # fmt: skip
    t.add_row("tls / plain", str(out["tls_over_plain_p50"]), str(out["tls_over_plain_p99"]), "")
    Console(width=120).print(t)
    return out


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()
