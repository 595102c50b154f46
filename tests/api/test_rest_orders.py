"""REST order API over real TCP: httpx against uvicorn on 127.0.0.1 (see conftest)."""

from __future__ import annotations

import time

import pytest

from api.conftest import DESK_KEY, MM_KEY, Stack, bearer
from interlock.api.rest import STATUS_BY_CODE
from interlock.domain.reject import RejectCode


def _wait_status(stack: Stack, order_id: int, want: str, timeout: float = 2.0) -> str:
    deadline = time.monotonic() + timeout
    status = ""
    while time.monotonic() < deadline:
        r = stack.rest_client.get(f"/orders/{order_id}", headers=bearer(DESK_KEY))
        status = r.json()["status"]
        if status == want:
            break
        time.sleep(0.01)
    return status


def test_post_order_accepted_answers_201_with_the_order_id_once_durable(stack: Stack) -> None:
    r = stack.post(stack.order())
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["replayed"] is False
    assert r.headers["Location"] == f"/orders/{body['order_id']}"
    assert stack.journal.durable_seq >= body["seq"]  # durable before the answer
    got = stack.rest_client.get(f"/orders/{body['order_id']}", headers=bearer(DESK_KEY)).json()
    assert got["symbol"] == "AAPL" and got["limit_price"] == "100.00"
    assert got["status"] == "working"


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"quantity": 20_000}, RejectCode.MAX_ORDER_QTY),
        ({"symbol": "KCG"}, RejectCode.RESTRICTED_SYMBOL),
        ({"symbol": "ZZZZ"}, RejectCode.UNKNOWN_SYMBOL),
        ({"limit_price": "150.00"}, RejectCode.PRICE_COLLAR),
        ({"quantity": 0}, RejectCode.SCHEMA_INVALID),
        ({"account": "mm-1"}, RejectCode.UNAUTHENTICATED),
        ({"session": "opening_auction"}, RejectCode.SESSION_MISMATCH),  # 24/7: continuous
    ],
)
def test_post_order_rejected_answers_the_codes_status_and_body(
    stack: Stack, overrides: dict[str, object], code: RejectCode
) -> None:
    r = stack.post(stack.order(**overrides))
    assert r.status_code == STATUS_BY_CODE[code], r.text
    body = r.json()
    assert set(body) == {"code", "message", "limit", "attempted"}
    assert body["code"] == code.value
    assert body["message"].startswith(f"{code.value}: ")
    assert body["limit"] and body["attempted"]


def test_post_order_session_label_is_optional_and_checked_against_the_server(
    stack: Stack,
) -> None:
    assert stack.post(stack.order(session="continuous")).status_code == 201
    r = stack.post(stack.order(session="pre_open"))
    assert (r.status_code, r.json()["code"]) == (422, "SESSION_MISMATCH")
    assert (r.json()["limit"], r.json()["attempted"]) == ("continuous", "pre_open")


def test_post_order_duplicate_answers_409_DUPLICATE_ORDER(stack: Stack) -> None:
    first = stack.order()
    assert stack.post(first).status_code == 201
    r = stack.post({**first, "client_order_id": "another-id"})
    assert (r.status_code, r.json()["code"]) == (409, "DUPLICATE_ORDER")


def test_post_order_body_not_an_order_answers_422_SCHEMA_INVALID(stack: Stack) -> None:
    for body in (
        {**stack.order(), "quantity": "100"},
        {**stack.order(), "limit_price": 100.0},
        {**stack.order(), "colour": "red"},
    ):
        r = stack.post(body)
        assert (r.status_code, r.json()["code"]) == (422, "SCHEMA_INVALID"), body


def test_idempotency_key_replays_the_first_decision(stack: Stack) -> None:
    body = stack.order()
    first = stack.post(body, **{"Idempotency-Key": "k-1"})
    again = stack.post(body, **{"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 201
    assert again.json()["order_id"] == first.json()["order_id"]
    assert again.json()["replayed"] is True
    assert again.headers["Idempotent-Replayed"] == "true"


def test_idempotency_key_with_another_payload_answers_409_IDEMPOTENCY_CONFLICT(
    stack: Stack,
) -> None:
    body = stack.order()
    assert stack.post(body, **{"Idempotency-Key": "k-2"}).status_code == 201
    r = stack.post({**body, "quantity": body["quantity"] + 1}, **{"Idempotency-Key": "k-2"})
    assert (r.status_code, r.json()["code"]) == (409, "IDEMPOTENCY_CONFLICT")


def test_delete_order_cancels_it_and_a_second_cancel_answers_409(stack: Stack) -> None:
    order_id = stack.post(stack.order()).json()["order_id"]
    r = stack.rest_client.delete(f"/orders/{order_id}", headers=bearer(DESK_KEY))
    assert r.status_code == 202, r.text
    assert _wait_status(stack, order_id, "cancelled") == "cancelled"
    again = stack.rest_client.delete(f"/orders/{order_id}", headers=bearer(DESK_KEY))
    assert again.status_code == 409


def test_orders_of_other_accounts_are_not_found_for_a_trader(stack: Stack) -> None:
    order_id = stack.post(stack.order()).json()["order_id"]
    for r in (
        stack.rest_client.get(f"/orders/{order_id}", headers=bearer(MM_KEY)),
        stack.rest_client.delete(f"/orders/{order_id}", headers=bearer(MM_KEY)),
        stack.rest_client.get("/orders/999999", headers=bearer(DESK_KEY)),
    ):
        assert (r.status_code, r.json()["code"]) == (404, "ORDER_NOT_FOUND")


def test_positions_show_a_fill_to_its_owner_and_risk_but_not_to_another_trader(
    stack: Stack,
) -> None:
    r = stack.post(stack.order(quantity=300, limit_price="100.01"))  # crosses the ask
    assert r.status_code == 201, r.text
    assert _wait_status(stack, r.json()["order_id"], "filled") == "filled"
    line = {"account": "desk-7", "symbol": "AAPL", "position": 300, "open_buy": 0, "open_sell": 0}
    desk = stack.rest_client.get("/positions", headers=bearer(DESK_KEY)).json()
    risk = stack.rest_client.get("/positions", headers=bearer("demo-risk-key")).json()
    other = stack.rest_client.get("/positions", headers=bearer(MM_KEY)).json()
    assert desk == [line] and line in risk and other == []


def test_limits_show_a_trader_only_its_accounts(stack: Stack) -> None:
    desk = stack.rest_client.get("/limits", headers=bearer(DESK_KEY)).json()
    risk = stack.rest_client.get("/limits", headers=bearer("demo-risk-key")).json()
    assert list(desk["accounts"]) == ["desk-7"]
    assert desk["accounts"]["desk-7"]["max_position"] == 20_000
    assert {"desk-7", "mm-1"} <= set(risk["accounts"])
    assert desk["digest"] == stack.harness.gateway.config.limits.digest()
