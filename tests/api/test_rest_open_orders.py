"""GET /orders?status=open and POST /orders/mass-cancel over real uvicorn listeners: each
caller sees only its accounts' open orders, and a trader can mass cancel only its own."""

from __future__ import annotations

import time
from typing import Any

from api.conftest import OPERATOR_KEY, RISK_KEY, Stack, bearer
from interlock.sim.harness import DESK_KEY, MM_KEY


def _place(stack: Stack, key: str = DESK_KEY, **overrides: Any) -> int:
    r = stack.post(stack.order(**overrides), key)
    assert r.status_code == 201, r.text
    return int(r.json()["order_id"])


def _mm(stack: Stack, **overrides: Any) -> int:
    return _place(stack, MM_KEY, account="mm-1", strategy="quotes", **overrides)


def _open(stack: Stack, key: str, **params: str) -> list[int]:
    r = stack.rest_client.get("/orders", params={"status": "open", **params}, headers=bearer(key))
    assert r.status_code == 200, r.text
    return [o["order_id"] for o in r.json()]


def _status(stack: Stack, order_id: int) -> str:
    r = stack.rest_client.get(f"/orders/{order_id}", headers=bearer(RISK_KEY))
    return str(r.json()["status"])


def _until_cancelled(stack: Stack, ids: list[int], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(_status(stack, i) == "cancelled" for i in ids):
            return True
        time.sleep(0.01)
    return False


def test_open_orders_shows_a_trader_only_its_accounts_working_orders(stack: Stack) -> None:
    kept, gone = _place(stack), _place(stack)
    theirs = _mm(stack)
    assert stack.rest_client.delete(f"/orders/{gone}", headers=bearer(DESK_KEY)).status_code == 202
    assert _until_cancelled(stack, [gone])
    assert _open(stack, DESK_KEY) == [kept]
    assert _open(stack, RISK_KEY) == [kept, theirs]
    assert _open(stack, OPERATOR_KEY) == [kept, theirs]
    assert _open(stack, DESK_KEY, account="mm-1") == []  # not the trader's: nothing shown


def test_open_orders_filters_by_symbol_strategy_and_account(stack: Stack) -> None:
    aapl = _place(stack)
    msft = _place(stack, symbol="MSFT", strategy="pairs")
    theirs = _mm(stack)
    assert _open(stack, RISK_KEY, symbol="MSFT") == [msft]
    assert _open(stack, RISK_KEY, strategy="vwap") == [aapl]
    assert _open(stack, RISK_KEY, account="mm-1") == [theirs]
    body = stack.rest_client.get("/orders", params={"symbol": "MSFT"}, headers=bearer(DESK_KEY))
    view = body.json()[0]
    assert (view["status"], view["leaves"], view["limit_price"]) == (
        "working",
        view["quantity"],
        "100.00",
    )


def test_open_orders_with_another_status_is_refused(stack: Stack) -> None:
    r = stack.rest_client.get("/orders", params={"status": "filled"}, headers=bearer(RISK_KEY))
    assert r.status_code == 422


def test_mass_cancel_cancels_only_the_matching_orders_of_the_callers_accounts(
    stack: Stack,
) -> None:
    aapl = [_place(stack), _place(stack)]
    msft = _place(stack, symbol="MSFT")
    theirs = _mm(stack)
    r = stack.rest_client.post(
        "/orders/mass-cancel", json={"symbol": "AAPL"}, headers=bearer(DESK_KEY)
    )
    assert r.status_code == 202, r.text
    assert r.json() == {"count": 2, "order_ids": aapl, "status": "cancel_requested"}
    assert _until_cancelled(stack, aapl)
    assert _status(stack, msft) == "working" and _status(stack, theirs) == "working"
    r = stack.rest_client.post("/orders/mass-cancel", json={}, headers=bearer(DESK_KEY))
    assert r.json()["order_ids"] == [msft]  # everything of its own, nothing of mm-1
    assert _until_cancelled(stack, [msft]) and _status(stack, theirs) == "working"


def test_mass_cancel_of_another_account_is_refused_and_cancels_nothing(stack: Stack) -> None:
    theirs = _mm(stack)
    r = stack.rest_client.post(
        "/orders/mass-cancel", json={"account": "mm-1"}, headers=bearer(DESK_KEY)
    )
    assert r.status_code == 403 and r.json()["code"] == "NOT_ACCOUNT_OWNER"
    assert _status(stack, theirs) == "working"


def test_mass_cancel_by_a_read_only_role_is_refused(stack: Stack) -> None:
    theirs = _mm(stack)
    r = stack.rest_client.post("/orders/mass-cancel", json={}, headers=bearer(RISK_KEY))
    assert r.status_code == 403 and r.json()["code"] == "UNAUTHENTICATED"
    assert _status(stack, theirs) == "working"


def test_mass_cancel_with_an_unknown_field_is_refused(stack: Stack) -> None:
    r = stack.rest_client.post(
        "/orders/mass-cancel", json={"acount": "desk-7"}, headers=bearer(DESK_KEY)
    )
    assert r.status_code == 422
