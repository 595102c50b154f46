"""Bad input over real HTTP (httpx against uvicorn on 127.0.0.1) gets the documented body
`{code, message, limit, attempted}` with a stable code, never FastAPI's `{"detail"}` or a 500;
and the published schema refuses what the gateway would refuse."""

from __future__ import annotations

import json

import httpx
import pytest

from interlock.gateway.decode import MAX_QUANTITY

from .conftest import DESK_KEY, Stack, bearer

JSON = {"Content-Type": "application/json"}
UNPARSABLE = {
    "invalid UTF-8": (b'{"client_order_id": "\xff\xfe"}', JSON),
    "deep nesting": (b"[" * 100_000 + b"]" * 100_000, JSON),
    "deep object": (b'{"a":' * 50_000 + b"1" + b"}" * 50_000, JSON),
    "not JSON": (b"hello", JSON),
    "truncated JSON": (b'{"client_order_id": "x"', JSON),
    "a JSON list": (b"[1, 2]", JSON),
    "a JSON string": (b'"order"', JSON),
    "empty": (b"", JSON),
    "text/plain": (b'{"client_order_id": "x"}', {"Content-Type": "text/plain"}),
    "no content type": (b'{"client_order_id": "x"}', {}),
    "a 5000-digit quantity": (b'{"quantity": ' + b"9" * 5_000 + b"}", JSON),
}


def assert_shape(r: httpx.Response, status: int, code: str) -> dict[str, str]:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"code", "message", "limit", "attempted"}, body
    assert body["code"] == code and body["message"].startswith(code), body
    return body  # type: ignore[no-any-return]


@pytest.mark.parametrize("name", UNPARSABLE)
def test_an_unparsable_body_answers_422_SCHEMA_INVALID_in_the_documented_shape(
    stack: Stack, name: str
) -> None:
    content, headers = UNPARSABLE[name]
    r = stack.rest_client.post("/orders", content=content, headers={**bearer(DESK_KEY), **headers})
    assert_shape(r, 422, "SCHEMA_INVALID")
    assert stack.harness.gateway.book.orders == {}


@pytest.mark.parametrize("quantity", [0, -1, MAX_QUANTITY + 1])
def test_a_quantity_out_of_bounds_is_refused_at_the_schema(stack: Stack, quantity: int) -> None:
    body = assert_shape(stack.post(stack.order(quantity=quantity)), 422, "SCHEMA_INVALID")
    assert "quantity" in body["message"]


def test_the_published_schema_bounds_quantity_as_decode_does(stack: Stack) -> None:
    schema = stack.rest_client.get("/openapi.json").json()
    quantity = schema["components"]["schemas"]["OrderIn"]["properties"]["quantity"]
    assert quantity["exclusiveMinimum"] == 0 and quantity["maximum"] == MAX_QUANTITY


@pytest.mark.parametrize("field", ["client_order_id", "account", "strategy", "symbol", "parent_id"])
@pytest.mark.parametrize("text", ["\x1b[2J", "a\nb", "a\x00", "a\x7f", "a\x9b", "a\u2028"])
def test_a_control_character_in_an_id_answers_422_naming_the_field(
    stack: Stack, field: str, text: str
) -> None:
    body = assert_shape(stack.post(stack.order(**{field: text})), 422, "SCHEMA_INVALID")
    assert f"body.{field}:" in body["message"], body
    assert stack.harness.gateway.book.orders == {}


def test_a_control_character_in_the_idempotency_key_answers_422_naming_it(stack: Stack) -> None:
    r = stack.rest_client.post(
        "/orders",
        content=json.dumps(stack.order()).encode(),
        headers={**bearer(DESK_KEY), **JSON, "Idempotency-Key": "k\x7f1"},
    )
    body = assert_shape(r, 422, "SCHEMA_INVALID")
    assert "idempotency_key" in body["message"], body


def test_unknown_routes_and_methods_answer_in_the_documented_shape(stack: Stack) -> None:
    assert_shape(stack.rest_client.get("/nope", headers=bearer(DESK_KEY)), 404, "NOT_FOUND")
    r = stack.rest_client.put("/orders", headers=bearer(DESK_KEY))
    assert_shape(r, 405, "METHOD_NOT_ALLOWED")
    assert "POST" in r.headers["allow"]


def test_a_validation_error_names_a_long_unknown_field_within_bounds(stack: Stack) -> None:
    body = assert_shape(stack.post(stack.order(**{"x" * 10_000: 1})), 422, "SCHEMA_INVALID")
    assert len(body["message"]) < 400


def test_the_admin_port_answers_bad_bodies_in_the_same_shape(stack: Stack) -> None:
    r = stack.admin_client.post(
        "/halt", content=b"\xff", headers={**JSON, "Authorization": "Bearer demo-admin-token"}
    )
    assert_shape(r, 422, "SCHEMA_INVALID")
