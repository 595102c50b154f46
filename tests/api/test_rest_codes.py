"""Every code the REST and admin listeners answer with is a member of the one enum and
leads `message`; `limit` and `attempted` are the rendered values. Each refusal below is
driven through a real uvicorn listener on 127.0.0.1."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from api.conftest import ADMIN_TOKEN, RISK_KEY, Stack, bearer
from interlock.domain.reject import RejectCode
from interlock.errors import JournalError
from interlock.sim.harness import DESK_KEY, MM_KEY


def refused(r: httpx.Response, status: int, code: RejectCode) -> dict[str, Any]:
    """`r` is the one refusal shape with `code`, a member, leading its message."""
    body = r.json()
    assert r.status_code == status, r.text
    assert set(body) == {"code", "message", "limit", "attempted"}, body
    assert RejectCode(body["code"]) is code, body
    assert body["message"].startswith(f"{code.value}: ") and len(body["message"]) > len(code) + 2
    assert all(isinstance(body[k], str) for k in ("limit", "attempted")), body
    return body


def test_order_path_refusals_lead_with_their_code_and_render_their_values(stack: Stack) -> None:
    body = refused(stack.post(stack.order(quantity=20_000)), 403, RejectCode.MAX_ORDER_QTY)
    assert (body["limit"], body["attempted"]) == ("10000", "20000")
    refused(stack.post(stack.order(symbol="APPL")), 422, RejectCode.UNKNOWN_SYMBOL)
    refused(stack.post(stack.order(limit_price="100.005")), 422, RejectCode.SCHEMA_INVALID)
    refused(stack.post(stack.order(account="mm-1")), 403, RejectCode.UNAUTHENTICATED)
    first = stack.order()
    assert stack.post(first, **{"Idempotency-Key": "k-codes"}).status_code == 201
    other = {**first, "quantity": first["quantity"] + 1}
    r = stack.post(other, **{"Idempotency-Key": "k-codes"})
    refused(r, 409, RejectCode.IDEMPOTENCY_CONFLICT)


def test_cancel_and_lookup_refusals_are_command_codes(stack: Stack) -> None:
    order_id = stack.post(stack.order()).json()["order_id"]
    client, gw = stack.rest_client, stack.harness.gateway
    theirs = refused(client.delete(f"/orders/{order_id}", headers=bearer(MM_KEY)), 404,
                     RejectCode.ORDER_NOT_FOUND)  # fmt: skip
    nobodys = refused(client.delete("/orders/999999", headers=bearer(MM_KEY)), 404,
                      RejectCode.ORDER_NOT_FOUND)  # fmt: skip
    assert nobodys["message"] == theirs["message"].replace(str(order_id), "999999")
    refused(client.get(f"/orders/{order_id}", headers=bearer(MM_KEY)), 404,
            RejectCode.ORDER_NOT_FOUND)  # fmt: skip
    assert client.delete(f"/orders/{order_id}", headers=bearer(DESK_KEY)).status_code == 202
    deadline = time.monotonic() + 5.0  # the venue confirms the cancel asynchronously
    while gw.order(order_id).status.is_open and time.monotonic() < deadline:  # type: ignore[union-attr]
        time.sleep(0.005)
    again = client.delete(f"/orders/{order_id}", headers=bearer(DESK_KEY))
    body = refused(again, 409, RejectCode.ORDER_NOT_OPEN)
    assert body["message"] == f"ORDER_NOT_OPEN: order {order_id} is not open: it is cancelled"
    r = client.post("/orders/mass-cancel", json={"account": "mm-1"}, headers=bearer(DESK_KEY))
    refused(r, 403, RejectCode.NOT_ACCOUNT_OWNER)


def test_edge_refusals_lead_with_their_code_on_both_listeners(stack: Stack) -> None:
    json_type = {"Content-Type": "application/json"}
    for client, key, path, get in (
        (stack.rest_client, DESK_KEY, "/orders", "/positions"),
        (stack.admin_client, ADMIN_TOKEN, "/halt", "/halts"),
    ):
        refused(client.get("/nope", headers=bearer(key)), 404, RejectCode.NOT_FOUND)
        r = client.put(path, headers=bearer(key))
        refused(r, 405, RejectCode.METHOD_NOT_ALLOWED)
        refused(client.get(get), 401, RejectCode.UNAUTHENTICATED)
        r = client.post(path, content=b"\xff{", headers={**bearer(key), **json_type})
        refused(r, 422, RejectCode.SCHEMA_INVALID)
    r = stack.rest_client.post("/orders", json={"quantity": "x"}, headers=bearer(DESK_KEY))
    refused(r, 422, RejectCode.SCHEMA_INVALID)
    r = stack.rest_client.post("/orders", json=stack.order(), headers=bearer(RISK_KEY))
    refused(r, 403, RejectCode.UNAUTHENTICATED)


def test_faults_answer_JOURNAL_UNAVAILABLE_and_INTERNAL_ERROR(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    gw = stack.harness.gateway

    def no_commit(*_: object) -> None:
        raise JournalError("journal did not commit within 0.5 s")

    def broken(*_: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(gw, "wait", no_commit)
    refused(stack.post(stack.order()), 503, RejectCode.JOURNAL_UNAVAILABLE)
    monkeypatch.setattr(gw, "positions", broken)
    refused(stack.rest_client.get("/positions", headers=bearer(DESK_KEY)), 500,
            RejectCode.INTERNAL_ERROR)  # fmt: skip
