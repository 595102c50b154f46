"""schemathesis against a real `interlock serve`: the REST and admin listeners' published
/openapi.json, every operation, `--checks all`, positive and negative data, a fixed seed
and a few examples per operation (bounded: the whole module takes well under a minute).
Zero 5xx, and every response conforms to what the schema declares (status, body, headers,
content type); bodies that cannot be parsed at all get the documented error shape.

One serve for the module, fuzzed in order: REST first, then admin, whose operations halt,
resume, propose deploys and register flags (state the REST run would otherwise trade
against: a global halt left in force would turn every REST order into 423). The admin's
limit-change operations need a risk token (the operator token is refused them, 403), so
they are sent with one added to this serve's config.
"""

from __future__ import annotations

import hashlib
import queue
import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from interlock.sim.openapi_fuzz import FuzzReport, run_schemathesis

from .conftest import ADMIN_TOKEN, DESK_KEY
from .serve_kit import kill_if_running, serve_config, start_serve, stop_serve

RISK_TOKEN = "fuzz-risk-token"
EXAMPLES = 3
_ANNOUNCED = re.compile(r"^(rest|admin) listening on (http://\S+)")
LIMIT_CHANGES = "^/limits/changes"


def risk_token_section() -> str:
    digest = hashlib.sha256(RISK_TOKEN.encode()).hexdigest()
    return (
        f'\n[[admin.tokens]]\nprincipal = "fuzz-risk"\ntoken_sha256 = "{digest}"\nrole = "risk"\n'
    )


def listener_urls(lines: queue.Queue[str], timeout_s: float = 60.0) -> dict[str, str]:
    """The REST and admin URLs serve announces on stdout, waited for with a deadline."""
    urls: dict[str, str] = {}
    deadline = time.monotonic() + timeout_s
    while len(urls) < 2:
        left = deadline - time.monotonic()
        assert left > 0, f"serve announced only {urls} in {timeout_s} s"
        try:
            line = lines.get(timeout=left)
        except queue.Empty:
            continue
        if m := _ANNOUNCED.match(line):
            urls[m[1]] = m[2]
    return urls


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    tmp = tmp_path_factory.mktemp("fuzz-serve")
    proc, lines, _ = start_serve(serve_config(tmp, risk_token_section()))
    try:
        yield listener_urls(lines)
        stop_serve(proc)
    finally:
        kill_if_running(proc)


def assert_clean(report: FuzzReport, schema: dict[str, object], token_ops: set[str]) -> None:
    """Nothing found, and the run reached every operation of the schema past 401/403."""
    assert report.problems() == [], "\n".join(report.problems()) + "\n" + report.output[-6000:]
    for op in token_ops:
        assert report.requests[op] > 0, f"{op} never requested"
        past_auth = {s for s in report.statuses[op] if s not in (401, 403)}
        assert past_auth, f"{op}: only {dict(report.statuses[op])}"


def operations(schema: dict[str, object]) -> set[str]:
    paths = schema["paths"]
    assert isinstance(paths, dict)
    return {f"{method.upper()} {path}" for path, ops in paths.items() for method in ops}


def test_rest_openapi_fuzzed_with_every_check_finds_no_5xx_and_no_schema_violation(
    served: dict[str, str], tmp_path: Path
) -> None:
    url = served["rest"] + "/openapi.json"
    schema = httpx.get(url).json()
    report = run_schemathesis(url, DESK_KEY, tmp_path, max_examples=EXAMPLES, label="rest")
    assert_clean(report, schema, operations(schema))
    # the published example order is accepted, so the accept path and the stateful links
    # (the new order read, then cancelled) are fuzzed too, not only refusals
    assert report.statuses["POST /orders"][201] > 0, dict(report.statuses["POST /orders"])
    assert report.statuses["GET /orders/{order_id}"][200] > 0


def test_admin_openapi_fuzzed_with_every_check_finds_no_5xx_and_no_schema_violation(
    served: dict[str, str], tmp_path: Path
) -> None:
    url = served["admin"] + "/openapi.json"
    schema = httpx.get(url).json()
    report = run_schemathesis(url, ADMIN_TOKEN, tmp_path, max_examples=EXAMPLES, label="admin",
                              tokens={LIMIT_CHANGES: RISK_TOKEN})  # fmt: skip
    assert_clean(report, schema, operations(schema))


JSON = "application/json"
UNPARSABLE: dict[str, tuple[bytes, str]] = {
    "not JSON": (b"hello", JSON),
    "truncated JSON": (b'{"reason": "x", "client_order_id": ', JSON),
    "invalid UTF-8": (b'{"reason": "\xff\xfe"}', JSON),
    "a JSON list": (b"[1, 2]", JSON),
    "empty": (b"", JSON),
    "wrong content type": (b'{"reason": "x"}', "text/plain"),
    "form data": (b"reason=x", "application/x-www-form-urlencoded"),
    "huge": (b'{"reason": "' + b"x" * 8_000_000 + b'"}', JSON),
}


@pytest.mark.parametrize("port", ["rest", "admin"])
def test_every_post_answers_an_unparsable_body_4xx_in_the_error_shape(
    served: dict[str, str], port: str
) -> None:
    schema = httpx.get(served[port] + "/openapi.json").json()
    posts = [p for p, ops in schema["paths"].items() if "requestBody" in ops.get("post", {})]
    assert posts, "no POST with a body published"
    auth = {"Authorization": f"Bearer {DESK_KEY if port == 'rest' else ADMIN_TOKEN}"}
    with httpx.Client(base_url=served[port], timeout=30) as client:
        for path in posts:
            for name, (content, ctype) in UNPARSABLE.items():
                r = client.post(path, content=content, headers={**auth, "Content-Type": ctype})
                where = f"{port} POST {path} with {name}"
                assert 400 <= r.status_code < 500, f"{where}: {r.status_code} {r.text[:300]}"
                body = r.json()
                assert set(body) == {"code", "message", "limit", "attempted"}, (where, body)
                assert body["message"].startswith(body["code"]), (where, body)
                if name == "huge":
                    assert (r.status_code, body["code"]) == (413, "BODY_TOO_LARGE"), where
