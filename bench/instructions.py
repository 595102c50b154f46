"""Instructions and Python calls per order on the hot-path mix: figures the machine's load
cannot move.

Wall time on this shared 2-core machine drifts by 2x between runs; instruction counts do
not. This runs `bench/hotpath.py`'s orders (`make_orders`, `bench_config`, the harness's
simulated venue) through one `Gateway` on a manual clock that steps 10 µs an order, with
`PYTHONHASHSEED=0`, so two runs of one tree execute the same instructions.

- `callgrind` (default): `valgrind --tool=callgrind` over a run of `--small` and one of
  `--large` measured orders, each after the same `--warmup`; the difference of the two
  totals over the difference of the counts is the cost of one order, start-up and warm-up
  cancelled out. Two phases: `decide` (`Gateway.submit` only: nothing is made durable while
  measuring) and `full` (the journal flushed every 100 orders: decide, then release to the
  venue, its fills and the `Routed` records). full - decide is the release side.
- `--calls`: in-process, `sys.setprofile` over `--large` orders of each phase: Python and C
  calls per order and the functions that make them (no valgrind needed).
- `--opcodes`: in-process, `sys.settrace` with `f_trace_opcodes`: bytecodes per order by
  function, the top `--top`.

    python bench/instructions.py [--small 1000] [--large 5000] [--warmup 3000] [--jobs 2]
                                 [--calls] [--opcodes] [--top 25] [--json PATH]
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import FrameType
from typing import Any

HERE = Path(__file__).resolve().parent
STEP_NS = 10_000  # the manual clock's step per order: 100k orders/s of simulated time
FLUSH_EVERY = 100  # `full`: orders between journal flushes (each flush releases them)
PHASES = ("decide", "full")
RUN_TIMEOUT_S = 1_800
Counter = collections.Counter[str]


def _prepare(warmup: int, measured: int) -> tuple[Any, list[Any]]:
    """A started gateway on the bench config after `warmup` orders released, and the
    `measured` orders that follow them."""
    sys.path.insert(0, str(HERE))
    import hotpath
    from interlock.domain.clock import ManualClock
    from interlock.journal.memory import MemoryJournal
    from interlock.sim.harness import START_NS, build

    clock = ManualClock(START_NS)
    h = build(hotpath.bench_config(), journal=MemoryJournal(), clock=clock, depth=1_000_000)
    orders = hotpath.make_orders(warmup + measured)
    _drive(h, clock, orders[:warmup], flush=True)
    return h, orders[warmup:]


def _drive(h: Any, clock: Any, orders: list[Any], *, flush: bool) -> None:
    """Submit `orders`; `flush`: commit (and so release) every FLUSH_EVERY orders."""
    submit = h.gateway.submit
    for i, (req, key) in enumerate(orders):
        if i % 5_000 == 0:
            h.refresh_references()  # as hotpath.py does, once a chunk
        clock.now += STEP_NS
        submit(req, key)
        if flush and i % FLUSH_EVERY == FLUSH_EVERY - 1:
            h.journal.flush()
    if flush:
        h.journal.flush()


def child(phase: str, warmup: int, measured: int) -> None:
    """One run under valgrind: build, warm up, drive `measured` orders of `phase`."""
    h, orders = _prepare(warmup, measured)
    _drive(h, h.clock, orders, flush=phase == "full")


def _callgrind_total(phase: str, warmup: int, measured: int, tmp: Path) -> int:
    out = tmp / f"cg.{phase}.{measured}"
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    argv = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
            sys.executable, __file__, "--child", phase, str(warmup), str(measured)]  # fmt: skip
    subprocess.run(argv, env=env, check=True, capture_output=True, timeout=RUN_TIMEOUT_S)
    text = out.read_text()
    m = re.search(r"^(?:summary|totals): (\d+)", text, re.M)
    if m is None:
        raise SystemExit(f"no instruction total in {out}")
    return int(m.group(1))


def callgrind(small: int, large: int, warmup: int, jobs: int) -> dict[str, float]:
    """The four runs, `jobs` at a time (instruction counts do not depend on the load)."""
    result: dict[str, float] = {}
    runs = [(phase, n) for phase in PHASES for n in (small, large)]
    with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(jobs) as pool:
        counted = pool.map(lambda r: _callgrind_total(r[0], warmup, r[1], Path(tmp)), runs)
        totals = dict(zip(runs, counted, strict=True))
        for phase in PHASES:
            lo, hi = totals[(phase, small)], totals[(phase, large)]
            result[f"{phase}_instructions_per_order"] = round((hi - lo) / (large - small))
    result["release_instructions_per_order"] = (
        result["full_instructions_per_order"] - result["decide_instructions_per_order"]
    )
    return result


def _where(frame: FrameType) -> str:
    code = frame.f_code
    path = code.co_filename
    cut = path.rfind("interlock/")
    short = path[cut + len("interlock/") :] if cut >= 0 else Path(path).name
    return f"{short}:{code.co_qualname}"


def _profiled(phase: str, warmup: int, measured: int, hook: str) -> tuple[int, Counter]:
    """(orders, counts): calls (`hook` "calls") or bytecodes ("opcodes") by function."""
    h, orders = _prepare(warmup, measured)
    counts: Counter = collections.Counter()
    if hook == "calls":

        def prof(frame: FrameType, event: str, arg: Any) -> None:
            if event == "call":
                counts[_where(frame)] += 1
            elif event == "c_call":
                counts[f"<C> {getattr(arg, '__qualname__', arg)}"] += 1

        sys.setprofile(prof)
        try:
            _drive(h, h.clock, orders, flush=phase == "full")
        finally:
            sys.setprofile(None)
        return len(orders), counts

    def trace(frame: FrameType, event: str, arg: Any) -> Callable[..., Any]:
        frame.f_trace_opcodes = True
        where = _where(frame)

        def local(frame: FrameType, event: str, arg: Any) -> Callable[..., Any]:
            if event == "opcode":
                counts[where] += 1
            return local

        return local

    sys.settrace(trace)
    try:
        _drive(h, h.clock, orders, flush=phase == "full")
    finally:
        sys.settrace(None)
    return len(orders), counts


def _table(title: str, n: int, counts: Counter, top: int) -> Iterator[str]:
    total = sum(counts.values())
    yield f"{title}: {total / n:,.1f} per order"
    for name, c in counts.most_common(top):
        yield f"  {c / n:8.2f}  {name}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--small", type=int, default=1_000)
    ap.add_argument("--large", type=int, default=5_000)
    ap.add_argument("--warmup", type=int, default=3_000)
    ap.add_argument("--calls", action="store_true", help="calls per order (sys.setprofile)")
    ap.add_argument("--opcodes", action="store_true", help="bytecodes per order (settrace)")
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--jobs", type=int, default=2, help="valgrind runs at once")
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--child", nargs=3, metavar=("PHASE", "WARMUP", "N"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child[0], int(args.child[1]), int(args.child[2]))
        return
    if args.large <= args.small:
        raise SystemExit("--large must be more orders than --small")
    result: dict[str, Any] = {"warmup": args.warmup, "small": args.small, "large": args.large}
    if args.calls or args.opcodes:
        for hook in ("calls", "opcodes"):
            if not getattr(args, hook):
                continue
            for phase in PHASES:
                n, counts = _profiled(phase, args.warmup, args.large, hook)
                for line in _table(f"{phase} {hook}", n, counts, args.top):
                    print(line)
                result[f"{phase}_{hook}_per_order"] = round(sum(counts.values()) / n, 1)
    else:
        result.update(callgrind(args.small, args.large, args.warmup, args.jobs))
        for k, v in result.items():
            print(f"{k:34} {v:>12,}")
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
