"""What credential expiry costs the order path: `Authenticator.authorize` per call, for an
edge's resolved Principal (FIX, REST) and for a raw key (the Python API, cached), with no
key carrying `not_after` (the default: one truth test of an empty dict) and with the
caller's key carrying one (a clock read and a compare). `before` is the authenticator of
the commit given (default 84e6332, before expiries existed), loaded from git, so the
figures say what the change added. Wall time on this shared 2-core machine drifts by 2x
between runs, so the figures the load cannot move come first: Python bytecodes and
function calls (Python and C: `time.time_ns` is one) per call, counted with
`sys.settrace` / `sys.setprofile` (`authorize` itself is one call). `floor_ns` as in
hotpath.py: a bare function doing one dict lookup and four integer comparisons, timed in
the same run as the medians.

    python bench/auth_check.py [--calls N] [--before COMMIT] [--json PATH]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from interlock.domain.commands import OrderRequest
from interlock.domain.enums import OrderType, Side
from interlock.gateway import auth as current
from interlock.gateway.config import hash_key

ROOT = Path(__file__).resolve().parents[1]
KEY = "bench-key"
REQUEST = OrderRequest(client_order_id="b1", account="desk-7", strategy="vwap", symbol="AAPL",
                       side=Side.BUY, quantity=100, order_type=OrderType.LIMIT,
                       limit_price=Decimal("100.00"))  # fmt: skip


def _before(commit: str) -> Any:
    """gateway/auth.py as it was at `commit`, as a module of its own."""
    where = f"{commit}:src/interlock/gateway/auth.py"
    text = subprocess.run(["git", "-C", str(ROOT), "show", where],
                          check=True, capture_output=True, text=True).stdout  # fmt: skip
    path = Path(tempfile.mkdtemp()) / "auth_before.py"
    path.write_text(text)
    spec = importlib.util.spec_from_file_location("auth_before", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["auth_before"] = module
    spec.loader.exec_module(module)
    return module


def _per_call_ns(fn: Callable[[], object], calls: int, repeats: int = 7) -> float:
    """The median over `repeats` runs of `calls` calls, in ns per call."""
    runs = []
    for _ in range(repeats):
        t0 = time.perf_counter_ns()
        for _ in range(calls):
            fn()
        runs.append((time.perf_counter_ns() - t0) / calls)
    return statistics.median(runs)


def _counts(fn: Callable[[], object], calls: int = 1_000) -> tuple[float, float]:
    """(bytecodes, function calls) per call of `fn`, its own frame excluded."""
    ops = [0, 0]
    top = fn.__code__

    def trace(frame: Any, event: str, arg: object) -> Any:
        frame.f_trace_opcodes = True
        if event == "opcode" and frame.f_code is not top:
            ops[0] += 1
        return trace

    def profile(frame: Any, event: str, arg: object) -> None:
        if event in ("call", "c_call") and not (event == "call" and frame.f_code is top):
            ops[1] += 1

    sys.settrace(trace)
    try:
        for _ in range(calls):
            fn()
    finally:
        sys.settrace(None)
    bytecodes = ops[0] / calls
    ops[1] = 0
    sys.setprofile(profile)
    try:
        for _ in range(calls):
            fn()
    finally:
        sys.setprofile(None)
    return bytecodes, (ops[1] - 1) / calls  # less the setprofile(None) call itself, once


def _floor() -> Callable[[], object]:
    table = {"AAPL": (1, 2, 3, 4)}

    def check() -> bool:
        a, b, c, d = table["AAPL"]
        return a < 5 and b < 5 and c < 5 and d < 5

    return check


def measure(calls: int, before_commit: str) -> dict[str, Any]:
    old = _before(before_commit)
    digest = hash_key(KEY)
    cases: dict[str, tuple[Any, Any]] = {}
    for label, module, kwargs in (
        ("before", old, {}),
        ("no expiry", current, {}),
        ("with expiry", current, {"expires": {digest: 2**62}}),
    ):
        p = module.Principal("bench", frozenset({"desk-7"}), frozenset({"*"}))
        auth = module.Authenticator([(digest, p)], **kwargs)
        assert auth.authorize(KEY, REQUEST) is p
        cases[label] = (auth, p)
    out: dict[str, Any] = {"calls": calls, "before": before_commit,
                           "floor_ns": round(_per_call_ns(_floor(), calls), 1)}  # fmt: skip
    for label, (auth, p) in cases.items():
        authorize = auth.authorize
        row: dict[str, float] = {}
        for caller, fn in (("principal", lambda a=authorize, p=p: a(p, REQUEST)),
                           ("key", lambda a=authorize: a(KEY, REQUEST))):  # fmt: skip
            bytecodes, fcalls = _counts(fn)
            row[f"{caller}_bytecodes"] = bytecodes
            row[f"{caller}_calls"] = round(fcalls, 3)
            row[f"{caller}_ns"] = round(_per_call_ns(fn, calls), 1)
        out[label] = row
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200_000)
    parser.add_argument("--before", default="84e6332")
    parser.add_argument("--json", type=Path, default=ROOT / "bench" / "results" / "auth_check.json")
    args = parser.parse_args()
    result = measure(args.calls, args.before)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    table = Table(title=f"Authenticator.authorize per call (floor {result['floor_ns']} ns)")
    for column in ("case", "caller", "bytecodes", "calls", "median ns (noisy)"):
        table.add_column(column)
    for label in ("before", "no expiry", "with expiry"):
        row = result[label]
        for caller, name in (("principal", "Principal (FIX, REST)"), ("key", "key, cached")):
            cells = (row[f"{caller}_{k}"] for k in ("bytecodes", "calls", "ns"))
            table.add_row(label, name, *(f"{v:.0f}" for v in cells))
    Console().print(table)
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
