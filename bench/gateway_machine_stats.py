"""Gateway machine statistics: how much of the product the whole-gateway stateful test
(tests/props/test_gateway_machine.py) exercises, in counts.

Runs the machine exactly as the suite does (the same derandomized programs, the same
example and step counts, SQLite on a temporary file and PostgreSQL on a throwaway server
of its own) and counts every `note` the rules make: the steps run by rule, the outcomes
(halts with orders pending cancel, late fills, crashes that lost records, deploys) and
every reject code the gateway answered with. Prints a table per journal and writes
bench/results/gateway_machine_stats.json. (The suite runs the machine through
`run_state_machine_as_test`, so pytest's --hypothesis-show-statistics has nothing to show
for it: these counts are the report.)

    python bench/gateway_machine_stats.py [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_JSON = ROOT / "bench" / "results" / "gateway_machine_stats.json"
CODE = re.compile(r"\b([A-Z][A-Z_]{3,})\b")


def summarize(stats: Counter[str], seconds: float, examples: int, steps: int) -> dict[str, Any]:
    """Rules run, outcomes and reject codes reached, from one run's notes."""
    rules = {k.removeprefix("rule: "): v for k, v in stats.items() if k.startswith("rule: ")}
    codes: Counter[str] = Counter()
    for text, n in stats.items():
        if text.startswith("rule: "):
            continue
        for code in CODE.findall(text):
            if code != "ACCEPTED":
                codes[code] += n
    outcomes = {k: v for k, v in stats.items() if not k.startswith(("rule: ", "submit: ",
                                                                     "child: "))}  # fmt: skip
    return {
        "examples": examples,
        "max_steps_per_example": steps,
        "steps_run": sum(rules.values()),
        "seconds": round(seconds, 1),
        "rules": dict(sorted(rules.items())),
        "reject_codes": dict(sorted(codes.items())),
        "outcomes": dict(sorted(outcomes.items())),
    }


def _run(backend: str) -> dict[str, Any]:
    import machine_kit
    import test_gateway_machine as tgm

    machine_kit.STATS.clear()
    t0 = time.perf_counter()
    if backend == "sqlite":
        tgm.run(tgm.GatewayMachine, *tgm.SQLITE_RUN)
        ci, _, steps = tgm.SQLITE_RUN
    else:
        from interlock.sim.postgres_cluster import PostgresCluster

        with PostgresCluster() as cluster:
            tgm.PostgresMachine.dsn = cluster.dsn
            tgm.run(tgm.PostgresMachine, *tgm.POSTGRES_RUN)
        ci, _, steps = tgm.POSTGRES_RUN
    return summarize(Counter(machine_kit.STATS), time.perf_counter() - t0, ci, steps)


def _table(backend: str, s: dict[str, Any]) -> Table:
    table = Table(title=f"gateway machine on {backend}: {s['examples']} examples, "
                        f"{s['steps_run']} steps, {s['seconds']} s")  # fmt: skip
    table.add_column("kind")
    table.add_column("what")
    table.add_column("count", justify="right")
    for kind in ("rules", "outcomes", "reject_codes"):
        for name, n in s[kind].items():
            table.add_row(kind.replace("_", " "), name, f"{n:,}")
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON)
    args = parser.parse_args(argv)
    sys.path[:0] = [str(ROOT / "tests" / "props"), str(ROOT / "tests")]
    from hypothesis_profiles import load_from_env

    load_from_env()
    results = {backend: _run(backend) for backend in ("sqlite", "postgres")}
    console = Console()
    for backend, s in results.items():
        console.print(_table(backend, s))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2) + "\n")
    console.print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
