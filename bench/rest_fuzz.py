"""REST and admin fuzz: schemathesis with every check against a real `interlock serve`.

The suite's version (tests/api/test_rest_schemathesis.py) runs a few examples per
operation; this one runs `--examples` per operation and generation mode, for the figures of
docs/reliability.md: requests sent per operation, 5xx responses, schema violations (every
failed check: a status, body, header or content type the published OpenAPI does not
declare, a schema-valid request refused, an invalid one accepted), errors (no answer).

One serve, fuzzed in order: REST with the desk-7 trader key, then admin with the operator
token (its halts would otherwise refuse the REST orders 423), its limit changes with a
risk token added to this serve's config (the operator token is refused them).

    python bench/rest_fuzz.py [--examples 200] [--seed 1] [--json bench/results/rest_fuzz.json]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from interlock.sim.harness import DESK_KEY
from interlock.sim.openapi_fuzz import FuzzReport, run_schemathesis
from interlock.sim.serve_fleet import ADMIN_TOKEN, ServeFleet, packaged_config

RISK_TOKEN = "fuzz-risk-token"
LIMIT_CHANGES = "^/limits/changes"


def serve_extra() -> dict[str, Any]:
    """The packaged config plus a risk admin token (its limit-change routes need one)."""
    tokens = list(packaged_config()["admin"]["tokens"])
    risk = {"principal": "fuzz-risk", "role": "risk",
            "token_sha256": hashlib.sha256(RISK_TOKEN.encode()).hexdigest()}  # fmt: skip
    return {"admin": {"tokens": [*tokens, risk]}}


def fuzz(examples: int, seed: int, work: Path) -> tuple[list[FuzzReport], float]:
    started = time.monotonic()
    with ServeFleet(work / "serve", "embedded", extra=serve_extra()) as fleet:
        serve = fleet.start("gw-1").wait_started(60)
        rest, admin = serve.rest_url + "/openapi.json", serve.admin_url + "/openapi.json"
        timeout = 60.0 + examples * 30.0
        reports = [
            run_schemathesis(rest, DESK_KEY, work / "rest", max_examples=examples, seed=seed,
                             label="rest", timeout_s=timeout),
            run_schemathesis(admin, ADMIN_TOKEN, work / "admin", max_examples=examples,
                             seed=seed, label="admin", tokens={LIMIT_CHANGES: RISK_TOKEN},
                             timeout_s=timeout),
        ]  # fmt: skip
    return reports, time.monotonic() - started


def show(reports: list[FuzzReport], console: Console) -> None:
    table = Table(title="schemathesis --checks all, per operation")
    for col in ("run", "operation", "requests", "5xx", "statuses"):
        table.add_column(col, justify="right" if col in ("requests", "5xx") else "left")
    for r in reports:
        for op, n in sorted(r.requests.items()):
            statuses = r.statuses[op]
            fives = sum(c for s, c in statuses.items() if s >= 500)
            shown = " ".join(f"{s}:{c}" for s, c in sorted(statuses.items()))
            table.add_row(r.label, op, str(n), str(fives), shown)
    console.print(table)
    for r in reports:
        problems = r.problems()
        console.print(f"{r.label}: {r.total} requests over {r.operations_tested} operations, "
                      f"{r.server_errors} 5xx, {len(problems)} problems")  # fmt: skip
        for p in problems:
            console.print(f"  {p}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=200, help="per operation and mode")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="rest-fuzz-") as tmp:
        reports, elapsed = fuzz(args.examples, args.seed, Path(tmp))
    show(reports, Console(width=160))
    result = {
        "examples_per_operation": args.examples,
        "seed": args.seed,
        "elapsed_s": round(elapsed, 1),
        "requests": sum(r.total for r in reports),
        "server_errors": sum(r.server_errors for r in reports),
        "schema_violations": sum(len(r.failures) for r in reports),
        "errors": sum(len(r.errors) for r in reports),
        "runs": [r.as_json() for r in reports],
    }
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    clean = all(not r.problems() for r in reports)
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
