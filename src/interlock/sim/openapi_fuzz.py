"""schemathesis against a running listener's published OpenAPI: every operation, `--checks
all`, positive and negative data, for the suite (tests/api/test_rest_schemathesis.py) and the
bigger run of bench/rest_fuzz.py.

Why the schemathesis CLI in a child process rather than its pytest plugin: the CLI runs
every phase (the coverage phase's boundary values, undeclared methods and missing headers,
the fuzzing phase, the stateful phase's chains through the links it infers), writes a report
per request (NDJSON) that gives the figures, and fuzzes exactly what a caller can reach: the
listener over loopback HTTP, nothing in-process. It is the test extra's `schemathesis`; this
module imports nothing of it.

`NOT_CHECKED` names the one check turned off (its premise, that DELETE removes the resource,
is not this API's). `POSITIVE_EXCEPTIONS` is the one place the published schema is allowed
to be weaker than the server: an operation whose schema-valid request may still be refused
422 for a reason that depends on the running server's own state (its instrument list, its
calendar, its ADV file, the paths on its host), which no JSON schema can carry. Everything
else, a 5xx, a body or status or header or content type the schema does not declare, a
schema-valid request refused or an invalid one accepted, is a failure.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

POSITIVE_EXCEPTIONS: dict[tuple[str, str], str] = {
    ("POST", "/orders"): "UNKNOWN_SYMBOL, SESSION_MISMATCH, lot size and tick grid: per instrument",
    ("POST", "/locates"): "accounts and symbols the server lists, an expiry after its now",
    ("POST", "/adv/reload"): "CONFIG_INVALID while the server has no ADV file configured",
    ("POST", "/deploy/propose"): "`source` paths must exist on the member's host",
}
"""(method, path) -> why a schema-valid request may be refused 422 there."""

NOT_CHECKED: dict[str, str] = {
    "use_after_free": "DELETE /orders/{id} asks for a cancel (202) and the order stays "
    "readable with its status, as docs/rest-api.md says: an order is a record, never deleted",
}
"""The one check of `--checks all` turned off, and why: its premise is not this API's."""

_POSITIVE_STATUSES = ["2xx", "3xx", "401", "403", "404", "409", "422", "429"]


def config_text(token: str, tokens: Mapping[str, str] | None = None) -> str:
    """The schemathesis.toml of a run: `token` as the bearer of every request, but
    `tokens[regex]` for the paths matching `regex` (an operation another role serves),
    and the positive-data exceptions above."""
    blocks = [f"headers = {{ Authorization = {json.dumps('Bearer ' + token)} }}\n"]
    blocks += [
        f"[[operations]]\ninclude-path-regex = {json.dumps(regex)}\n"
        f"headers = {{ Authorization = {json.dumps('Bearer ' + other)} }}\n"
        for regex, other in (tokens or {}).items()
    ]
    blocks += [
        f'[[operations]]\n# {why}\ninclude-method = "{method}"\ninclude-path = "{path}"\n'
        f"checks.positive_data_acceptance.expected-statuses = {json.dumps(_POSITIVE_STATUSES)}\n"
        for (method, path), why in POSITIVE_EXCEPTIONS.items()
    ]
    return "\n".join(blocks)


@dataclass
class FuzzReport:
    """One schemathesis run, read back from its JSON and NDJSON reports."""

    label: str
    exit_code: int
    requests: Counter[str] = field(default_factory=Counter)  # "POST /orders" -> sent
    statuses: dict[str, Counter[int]] = field(default_factory=dict)
    failures: list[dict[str, Any]] = field(default_factory=list)  # code, title, operations
    errors: list[dict[str, Any]] = field(default_factory=list)
    operations_tested: int = 0
    output: str = ""

    @property
    def server_errors(self) -> int:
        return sum(n for c in self.statuses.values() for s, n in c.items() if s >= 500)

    @property
    def total(self) -> int:
        return sum(self.requests.values())

    def problems(self) -> list[str]:
        """Every failure and error, one line each (empty: the run found nothing)."""
        lines = [f"{f['code']} {f['title']}: {', '.join(f['operations'])}" for f in self.failures]
        lines += [f"error {e['title']} x{e.get('count', 1)}" for e in self.errors]
        if self.server_errors:
            lines.append(f"{self.server_errors} responses 5xx")
        return lines

    def as_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "exit_code": self.exit_code,
            "operations_tested": self.operations_tested,
            "requests": self.total,
            "server_errors": self.server_errors,
            "schema_violations": sum(int(f.get("count", 1)) for f in self.failures),
            "failures": self.failures,
            "errors": self.errors,
            "per_operation": {
                op: {"requests": n, "statuses": dict(sorted(self.statuses[op].items()))}
                for op, n in sorted(self.requests.items())
            },
        }


def run_schemathesis(
    schema_url: str,
    token: str,
    workdir: Path,
    *,
    max_examples: int,
    seed: int = 1,
    label: str = "",
    tokens: Mapping[str, str] | None = None,
    timeout_s: float = 600.0,
) -> FuzzReport:
    """`st run` against `schema_url` with every check, both generation modes, one worker and
    a fixed seed (the same requests each run), `token` as the bearer (`tokens`: another
    for the paths matching a regex, see `config_text`); its report."""
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "schemathesis.toml"
    config.write_text(config_text(token, tokens))
    report, events = workdir / "report.json", workdir / "events.ndjson"
    argv = [
        sys.executable, "-m", "schemathesis.cli", "--no-color", "--config-file", str(config),
        "run", schema_url, "--checks", "all", "--exclude-checks", ",".join(NOT_CHECKED),
        "--mode", "all",
        "--max-examples", str(max_examples), "--seed", str(seed), "--workers", "1",
        "--request-timeout", "10",
        "--report", "json,ndjson", "--report-json-path", str(report),
        "--report-ndjson-path", str(events),
    ]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout_s, cwd=workdir)
    out = FuzzReport(label or schema_url, done.returncode, output=done.stdout + done.stderr)
    if not report.exists():
        out.errors.append({"title": f"no report: schemathesis exited {done.returncode}"})
        return out
    summary = json.loads(report.read_text())
    out.failures = list(summary.get("failures", []))
    out.errors = list(summary.get("errors", []))
    out.operations_tested = int(summary.get("operations", {}).get("tested", 0))
    for line in events.read_text().splitlines():
        event = json.loads(line)
        recorder = event.get("ScenarioFinished", {}).get("recorder", {})
        op = recorder.get("label")
        for interaction in (recorder.get("interactions") or {}).values():
            out.requests[op] += 1
            response = interaction.get("response")
            status = response["status_code"] if response else 0  # 0: no answer (timeout)
            out.statuses.setdefault(op, Counter())[status] += 1
    return out
