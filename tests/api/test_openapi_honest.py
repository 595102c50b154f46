"""What schemathesis found against the published OpenAPI (test_rest_schemathesis.py), each
pinned over real HTTP (uvicorn on 127.0.0.1) so it cannot come back unseen: a 405 whose
`Allow` named one of a path's methods, GET /orders/mass-cancel read as an order id, refusals
published as a body the listener never sends, a deploy `source` that answered 500 or held a
worker for minutes, and request rules the schema did not state."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema_rs
import pytest

from interlock.api.admin.deploys import MAX_SOURCE_FILES
from interlock.api.body_limit import MAX_BODY_BYTES

from .conftest import ADMIN_TOKEN, DESK_KEY, Stack, bearer

JSON = {"Content-Type": "application/json"}


def refused(r: httpx.Response, status: int, code: str) -> dict[str, str]:
    assert r.status_code == status, r.text
    body: dict[str, str] = r.json()
    assert set(body) == {"code", "message", "limit", "attempted"} and body["code"] == code, body
    return body


@pytest.mark.parametrize(
    ("port", "path", "allow"),
    [
        ("rest", "/orders/1", "DELETE, GET"),
        ("rest", "/orders", "GET, POST"),
        ("admin", "/flags", "GET, POST"),
        ("admin", "/locates", "GET, POST"),
        ("admin", "/limits/changes", "GET, POST"),
    ],
)
def test_a_405_allows_every_method_the_path_serves(
    stack: Stack, port: str, path: str, allow: str
) -> None:
    client = stack.rest_client if port == "rest" else stack.admin_client
    r = client.request("OPTIONS", path, headers=bearer(DESK_KEY if port == "rest" else ADMIN_TOKEN))
    refused(r, 405, "METHOD_NOT_ALLOWED")
    assert r.headers["allow"] == allow


@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_mass_cancel_with_another_method_is_405_not_an_order_id(stack: Stack, method: str) -> None:
    r = stack.rest_client.request(method, "/orders/mass-cancel", headers=bearer(DESK_KEY))
    refused(r, 405, "METHOD_NOT_ALLOWED")
    assert r.headers["allow"] == "POST"


def test_an_order_id_that_is_not_a_number_is_404(stack: Stack) -> None:
    refused(stack.rest_client.get("/orders/abc", headers=bearer(DESK_KEY)), 404, "NOT_FOUND")


@pytest.mark.parametrize("port", ["rest", "admin"])
def test_every_published_refusal_is_the_closed_error_shape(stack: Stack, port: str) -> None:
    client = stack.rest_client if port == "rest" else stack.admin_client
    schema = client.get("/openapi.json").json()
    components = schema["components"]["schemas"]
    assert "HTTPValidationError" not in components  # FastAPI's body, never sent here
    body = components["RejectBody"]
    assert body["additionalProperties"] is False
    assert sorted(body["required"]) == ["attempted", "code", "limit", "message"]
    for path, ops in schema["paths"].items():
        for method, op in ops.items():
            for status, response in op["responses"].items():
                if int(status) >= 400:
                    ref = response["content"]["application/json"]["schema"]["$ref"]
                    assert ref.endswith("/RejectBody"), (method, path, status, ref)


def _propose(stack: Stack, source: list[str]) -> httpx.Response:
    return stack.admin_client.post(
        "/deploy/propose",
        json={"build_digest": "b2", "source": source},
        headers=bearer(ADMIN_TOKEN),
    )


def test_a_deploy_source_the_os_cannot_look_up_is_422_not_500(stack: Stack) -> None:
    body = refused(_propose(stack, ["0" * 1_000]), 422, "SCHEMA_INVALID")
    assert "no such path" in body["message"]


def test_an_empty_deploy_source_path_is_refused_at_the_schema(stack: Stack) -> None:
    body = refused(_propose(stack, [""]), 422, "SCHEMA_INVALID")
    assert "body.source.0" in body["message"]


def test_a_deploy_source_too_big_to_lint_is_refused_before_any_file_is_parsed(
    stack: Stack, tmp_path: Path
) -> None:
    for i in range(MAX_SOURCE_FILES + 1):
        (tmp_path / f"m{i}.py").write_text("x = (\n")  # each would be a parse finding
    body = refused(_propose(stack, [str(tmp_path)]), 422, "SCHEMA_INVALID")
    assert f"more than {MAX_SOURCE_FILES:,} Python files" in body["message"]
    assert stack.harness.gateway.fleet.plane.proposal() is None


def _validator(stack: Stack, port: str, name: str) -> Any:
    client = stack.rest_client if port == "rest" else stack.admin_client
    schema = client.get("/openapi.json").json()
    model = {**schema["components"]["schemas"][name], "$defs": schema["components"]["schemas"]}
    text = jsonschema_rs.Draft202012Validator  # OpenAPI 3.1 is JSON Schema 2020-12
    return text(_local_refs(model))


def _local_refs(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            k: (v.replace("#/components/schemas/", "#/$defs/") if k == "$ref" else _local_refs(v))
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_local_refs(v) for v in node]
    return node


ORDER = {"client_order_id": "c1", "account": "desk-7", "strategy": "vwap", "symbol": "AAPL",
         "side": "buy", "quantity": 100}  # fmt: skip


@pytest.mark.parametrize(
    ("body", "valid", "answer"),
    [
        ({**ORDER, "limit_price": "100.00"}, True, 201),
        (ORDER, False, 422),  # a limit order (the default type) without its price
        ({**ORDER, "order_type": "market", "limit_price": "100.00"}, False, 422),
    ],
)
def test_the_published_order_schema_states_when_a_limit_price_is_needed(
    stack: Stack, body: dict[str, Any], valid: bool, answer: int
) -> None:
    assert _validator(stack, "rest", "OrderIn").is_valid(body) is valid
    assert stack.post(body).status_code == answer


@pytest.mark.parametrize(
    ("body", "valid"),
    [
        ({"reason": "r"}, True),
        ({"reason": "r", "target": "desk-7"}, False),  # a global halt (the default) names none
        ({"reason": "r", "scope": "account"}, False),  # an account halt must name one
        ({"reason": "r", "scope": "account", "target": "desk-7"}, True),
    ],
)
def test_the_published_halt_schema_states_which_scopes_take_a_target(
    stack: Stack, body: dict[str, Any], valid: bool
) -> None:
    assert _validator(stack, "admin", "HaltIn").is_valid(body) is valid


def _chunks(total: int, size: int = 65_536) -> Iterator[bytes]:
    yield b'{"client_order_id": "'
    for _ in range(total // size):
        yield b"x" * size
    yield b'"}'


@pytest.mark.parametrize("port", ["rest", "admin"])
def test_a_body_over_the_bound_is_413_before_it_is_read(stack: Stack, port: str) -> None:
    client = stack.rest_client if port == "rest" else stack.admin_client
    path, key = ("/orders", DESK_KEY) if port == "rest" else ("/halt", ADMIN_TOKEN)
    big = b'{"reason": "' + b"x" * (MAX_BODY_BYTES + 1) + b'"}'
    r = client.post(path, content=big, headers={**bearer(key), **JSON})
    body = refused(r, 413, "BODY_TOO_LARGE")
    assert body["limit"] == f"{MAX_BODY_BYTES:,} bytes"
    streamed = client.post(
        path, content=_chunks(2 * MAX_BODY_BYTES), headers={**bearer(key), **JSON}
    )
    refused(streamed, 413, "BODY_TOO_LARGE")
    assert stack.harness.gateway.book.orders == {} and stack.harness.gateway.halts_in_force() == []


def test_a_body_under_the_bound_is_judged_by_its_schema(stack: Stack) -> None:
    near = b'{"client_order_id": "' + b"x" * (MAX_BODY_BYTES - 100) + b'"}'
    r = stack.rest_client.post("/orders", content=near, headers={**bearer(DESK_KEY), **JSON})
    refused(r, 422, "SCHEMA_INVALID")


def test_a_content_length_thousands_of_digits_long_is_413_not_a_crash() -> None:
    """int() of a 5,000-digit header raises ValueError (Python's digit limit): the bound
    must refuse it on its length, before converting it."""
    import asyncio

    from interlock.api.body_limit import BodyLimit

    async def app(scope: Any, receive: Any, send: Any) -> None:
        raise AssertionError("the app must not see this request")

    sent: list[dict[str, Any]] = []

    async def send(message: Any) -> None:
        sent.append(message)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    scope = {"type": "http", "headers": [(b"content-length", b"9" * 5000)]}
    asyncio.run(BodyLimit(app)(scope, receive, send))
    assert sent[0]["status"] == 413
    assert b"BODY_TOO_LARGE" in sent[1]["body"]
