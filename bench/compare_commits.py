"""Compare commits: `bench/hotpath.py` decide p50/p99 of an old commit and this tree, in
one run, interleaved, so the shared machine's drift hits both alike.

Issue 10's closing note needs the decide p50 before and after, measured side by side. This
checks the old commit out beside (`git worktree add --detach /tmp/interlock-old <rev>`,
reused when it is already there at that commit), then times each tree's own code with that
tree's own `bench/hotpath.py` (`PYTHONPATH=<tree>/src:<tree>/bench`; one interpreter, this
one, for both), old / new / old / new ...:

- `lockstep` (default): one process per tree, each built once as `bench_decide` builds
  its gateway (hotpath's `bench_config`, `make_orders`, `build`, `fresh_references`);
  the two take turns, one chunk of 5,000 timed submits at a time, for `--chunks` chunks
  (who goes first alternates). Load from other users of the machine moves on a scale
  of seconds; a chunk is tens of ms, so both trees see the same load.
- `process`: `--rounds` fresh processes per tree, each running `bench_decide` on
  `--orders` orders (a tree whose hotpath.py lacks the pieces lockstep needs falls back
  to this, and one lacking `bench_decide` to `full`).
- `full`: `--rounds` runs of the whole `hotpath.py` CLI per tree.

Printed: medians over every latency (p50, p99), and new/old as the median of the
per-chunk (or per-round) ratios with their spread. The worktree is removed afterwards if
this run created it, unless `--keep`.

    python bench/compare_commits.py REV [--mode lockstep|process|full] [--chunks 30]
                                        [--rounds 3] [--orders 50000] [--keep]
                                        [--old-tree /tmp/interlock-old] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

HERE = Path(__file__).resolve().parents[1]
DEFAULT_JSON = Path(__file__).resolve().parent / "results" / "compare_commits.json"
RUN_TIMEOUT_S = 600

# Runs in the child, with the tree's src/ and bench/ first on sys.path.
_RUNNER = """
import json, os, sys
tree = os.path.realpath(sys.argv[1])
import interlock
where = os.path.realpath(interlock.__file__)
if not where.startswith(os.path.join(tree, "src", "")):
    sys.exit(f"interlock imported from {where}, not from {tree}/src")
import hotpath
if not hasattr(hotpath, "bench_decide") or not hasattr(hotpath, "make_orders"):
    sys.exit(3)
r = hotpath.bench_decide(hotpath.make_orders(int(sys.argv[2])))
r["floor_ns"] = hotpath.floor_ns(200_000)
print(json.dumps(r))
"""
_NO_DECIDE = 3

# One tree's side of the lockstep: builds, says "ready", then times one chunk per line read.
_LOCKSTEP = """
import gc, json, os, sys, time
tree = os.path.realpath(sys.argv[1])
import interlock
where = os.path.realpath(interlock.__file__)
if not where.startswith(os.path.join(tree, "src", "")):
    sys.exit(f"interlock imported from {where}, not from {tree}/src")
import hotpath as hp
need = ("make_orders", "bench_config", "build", "MemoryJournal", "fresh_references")
if not all(hasattr(hp, n) for n in need):
    sys.exit(3)
chunk, chunks = int(sys.argv[2]), int(sys.argv[3])
orders = hp.make_orders(chunk * chunks)
h = hp.build(hp.bench_config(), journal=hp.MemoryJournal(), clock=time.time_ns,
             depth=1_000_000)
gw, jr, pc = h.gateway, h.journal, time.perf_counter_ns
gw.start_heartbeat()
print("ready", flush=True)
gc.disable()
for start in range(0, len(orders), chunk):
    if not sys.stdin.readline():
        break
    hp.fresh_references(h)
    lat = []
    for req, key in orders[start : start + chunk]:
        t0 = pc()
        gw.submit(req, key)
        lat.append(pc() - t0)
    jr.flush()
    print(json.dumps(lat), flush=True)
gc.enable()
floor = hp.floor_ns(200_000) if hasattr(hp, "floor_ns") else float("nan")
print(json.dumps({"floor_ns": floor}), flush=True)
gw.close()
"""


def _git(*args: str, cwd: Path = HERE) -> str:
    out = subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True)
    return out.stdout.strip()


def old_tree(rev: str, path: Path) -> tuple[Path, bool]:
    """A worktree of `rev` at `path`: (path, created by this call)."""
    commit = _git("rev-parse", "--verify", f"{rev}^{{commit}}")
    if path.exists():
        have = _git("rev-parse", "HEAD", cwd=path)
        if have != commit:
            hint = f"remove it (git worktree remove {path}) or pass --old-tree"
            raise SystemExit(f"{path} is at {have[:10]}, not {rev} ({commit[:10]}): {hint}")
        return path, False
    _git("worktree", "add", "--detach", str(path), commit)
    return path, True


def _env(tree: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join((str(tree / "src"), str(tree / "bench")))
    return env


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def lockstep(old: Path, new: Path, python: str, chunk: int, chunks: int) -> dict[str, Any] | None:
    """Both trees built once, timed in turns one chunk at a time; None if a tree's
    hotpath.py lacks the pieces (the caller falls back to `process`)."""
    trees = {"old": old, "new": new}
    procs = {
        leg: subprocess.Popen(
            [python, "-c", _LOCKSTEP, str(tree), str(chunk), str(chunks)],
            env=_env(tree),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for leg, tree in trees.items()
    }
    try:
        for leg, proc in procs.items():
            assert proc.stdout is not None
            if proc.stdout.readline().strip() != "ready":
                if proc.wait(RUN_TIMEOUT_S) == _NO_DECIDE:
                    return None
                err = proc.stderr.read() if proc.stderr else ""
                raise SystemExit(f"{trees[leg]}: lockstep child failed:\n{err[-2000:]}")
        lat: dict[str, list[float]] = {"old": [], "new": []}
        per_chunk: dict[str, list[float]] = {"old": [], "new": []}
        for i in range(chunks):
            for leg in ("old", "new") if i % 2 == 0 else ("new", "old"):
                got = _turn(procs[leg], trees[leg])
                lat[leg] += got
                per_chunk[leg].append(_pct(got, 0.5))
        floors = {leg: float(json.loads(_line(p, trees[leg]))["floor_ns"])
                  for leg, p in procs.items()}  # fmt: skip
        for proc in procs.values():
            proc.wait(RUN_TIMEOUT_S)
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    out: dict[str, Any] = {"mode": "lockstep", "chunk": chunk, "chunks": chunks}
    for leg in ("old", "new"):
        out[f"{leg}_decide_p50_us"] = _pct(lat[leg], 0.5) / 1e3
        out[f"{leg}_decide_p99_us"] = _pct(lat[leg], 0.99) / 1e3
        out[f"{leg}_floor_ns"] = floors[leg]
    ratios = [n / o for o, n in zip(per_chunk["old"], per_chunk["new"], strict=True)]
    out["decide_p50_us_ratio_rounds"] = ratios
    out["decide_p50_us_ratio"] = statistics.median(ratios)
    out["decide_p99_us_ratio"] = out["new_decide_p99_us"] / out["old_decide_p99_us"]
    return out


def _line(proc: subprocess.Popen[str], tree: Path) -> str:
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        err = proc.stderr.read() if proc.stderr else ""
        raise SystemExit(f"{tree}: lockstep child died:\n{err[-2000:]}")
    return line


def _turn(proc: subprocess.Popen[str], tree: Path) -> list[float]:
    """Let `proc` time its next chunk; its latencies in ns."""
    assert proc.stdin is not None
    proc.stdin.write("\n")
    proc.stdin.flush()
    return [float(x) for x in json.loads(_line(proc, tree))]


def run_tree(tree: Path, python: str, orders: int, full: bool) -> dict[str, Any]:
    """One fresh process timing `tree`'s code with `tree`'s hotpath.py."""
    env = _env(tree)
    if not full:
        proc = subprocess.run([python, "-c", _RUNNER, str(tree), str(orders)], env=env,
                              capture_output=True, text=True, timeout=RUN_TIMEOUT_S)  # fmt: skip
        if proc.returncode == 0:
            return dict(json.loads(proc.stdout.strip().splitlines()[-1]))
        if proc.returncode != _NO_DECIDE:
            raise SystemExit(f"{tree}: decide run failed:\n{proc.stderr[-2000:]}")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "hotpath.json"
        cmd = [python, str(tree / "bench" / "hotpath.py"), "--orders", str(orders),
               "--json", str(out)]  # fmt: skip
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True,
                              timeout=RUN_TIMEOUT_S)  # fmt: skip
        if proc.returncode != 0 or not out.exists():
            raise SystemExit(f"{tree}: hotpath.py failed:\n{proc.stderr[-2000:]}")
        return dict(json.loads(out.read_text()))


def compare(old: Path, new: Path, python: str, orders: int, rounds: int, full: bool,
            progress: Console) -> dict[str, Any]:  # fmt: skip
    runs: dict[str, list[dict[str, Any]]] = {"old": [], "new": []}
    for r in range(rounds):
        for leg, tree in (("old", old), ("new", new)):
            progress.print(f"round {r + 1}/{rounds}: {leg} ({tree})", highlight=False)
            runs[leg].append(run_tree(tree, python, orders, full))
    out: dict[str, Any] = {"mode": "full" if full else "process", "orders": orders,
                           "rounds": rounds}  # fmt: skip
    for leg in ("old", "new"):
        for key in ("decide_p50_us", "decide_p99_us", "floor_ns"):
            values = [run[key] for run in runs[leg]]
            out[f"{leg}_{key}_rounds"] = values
            out[f"{leg}_{key}"] = statistics.median(values)
    for key in ("decide_p50_us", "decide_p99_us"):
        ratios = [n[key] / o[key] for o, n in zip(runs["old"], runs["new"], strict=True)]
        out[f"{key}_ratio_rounds"] = ratios
        out[f"{key}_ratio"] = statistics.median(ratios)
    return out


def _print(r: dict[str, Any]) -> None:
    if r["mode"] == "lockstep":
        size = f"{r['chunks']} chunks of {r['chunk']:,} orders per tree, in turns"
    else:
        size = f"{r['rounds']} interleaved rounds of {r['orders']:,} orders ({r['mode']})"
    table = Table(title=f"decide latency, old vs new: {size}")
    for col in ("metric", "old", "new", "new/old"):
        table.add_column(col, justify="left" if col == "metric" else "right")
    for key in ("decide_p50_us", "decide_p99_us", "floor_ns"):
        ratio = r.get(f"{key}_ratio")
        table.add_row(key, f"{r[f'old_{key}']:.3f}", f"{r[f'new_{key}']:.3f}",
                      "" if ratio is None else f"{ratio:.3f}")  # fmt: skip
    spread = r["decide_p50_us_ratio_rounds"]
    table.caption = (
        f"p50 new/old: median of {len(spread)} per-turn ratios, range "
        f"{min(spread):.3f}-{max(spread):.3f}; old {r['old_commit'][:10]}, "
        f"new {r['new_commit'][:10]}{' (+ uncommitted src/)' if r['new_dirty'] else ''}"
    )
    Console().print(table)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("rev", help="the old commit (any git revision)")
    ap.add_argument("--new", type=Path, default=HERE, help="the new tree (default: this one)")
    ap.add_argument("--old-tree", type=Path, default=Path("/tmp/interlock-old"))
    ap.add_argument("--mode", choices=("lockstep", "process", "full"), default="lockstep")
    ap.add_argument("--chunk", type=int, default=5_000, help="lockstep: orders per turn")
    ap.add_argument("--chunks", type=int, default=30, help="lockstep: turns per tree")
    ap.add_argument("--orders", type=int, default=50_000, help="process/full: orders per run")
    ap.add_argument("--rounds", type=int, default=3, help="process/full: runs per tree")
    ap.add_argument("--python", default=sys.executable, help="one interpreter for both trees")
    ap.add_argument("--keep", action="store_true", help="keep a worktree this run created")
    ap.add_argument("--json", type=Path, default=DEFAULT_JSON)
    args = ap.parse_args(argv)
    if min(args.rounds, args.chunks) < 1 or min(args.orders, args.chunk) < 1000:
        ap.error("--rounds and --chunks must be >= 1, --orders and --chunk >= 1000")
    new = args.new.resolve()
    old, created = old_tree(args.rev, args.old_tree.resolve())
    progress = Console(stderr=True)
    try:
        result = None
        if args.mode == "lockstep":
            progress.print(f"lockstep: {old} vs {new}", highlight=False)
            result = lockstep(old, new, args.python, args.chunk, args.chunks)
            if result is None:
                progress.print("a hotpath.py lacks the lockstep pieces: process mode")
        if result is None:
            result = compare(old, new, args.python, args.orders, args.rounds,
                             args.mode == "full", progress)  # fmt: skip
        result["old_commit"] = _git("rev-parse", "HEAD", cwd=old)
        result["new_commit"] = _git("rev-parse", "HEAD", cwd=new)
        result["new_dirty"] = bool(_git("status", "--porcelain", "--", "src", cwd=new))
    finally:
        if created and not args.keep:
            _git("worktree", "remove", "--force", str(old))
    _print(result)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
