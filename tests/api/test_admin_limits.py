"""Limit changes over the admin listener: risk tokens only, four eyes by principal, and an
order refused before and accepted after an approved raise on the same running stack."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api.conftest import ADMIN_TOKEN, DESK_KEY, RISK_KEY, Stack, _stack, bearer
from interlock.api.config import parse_config
from interlock.sim.harness import around_the_clock

RISK_A, RISK_A_AGAIN, RISK_B, READER = "risk-a-token", "risk-a-other-token", "risk-b", "look"
QTY = "accounts.desk-7.max_order_qty"


def _token(token: str, principal: str, role: str) -> dict[str, str]:
    digest = hashlib.sha256(token.encode()).hexdigest()
    return {"principal": principal, "token_sha256": digest, "role": role}


@pytest.fixture
def risk_stack(tmp_path: Path) -> Iterator[Stack]:
    data = around_the_clock().model_dump(mode="json")
    data["admin"]["tokens"] += [
        _token(RISK_A, "risk-a", "risk"),
        _token(RISK_A_AGAIN, "risk-a", "risk"),  # a second token of the same person
        _token(RISK_B, "risk-b", "risk"),
        _token(READER, "viewer", "reader"),
    ]
    yield from _stack(tmp_path, parse_config(data, "risk tokens"))


def _propose(s: Stack, token: str, value: object, path: str = QTY) -> dict[str, object]:
    body = {"items": [{"path": path, "value": value}], "reason": "test"}
    r = s.admin_client.post("/limits/changes", json=body, headers=bearer(token))
    return {"http": r.status_code, **r.json()}


def _post(s: Stack, token: str, path: str, body: dict[str, str] | None = None) -> dict[str, object]:
    r = s.admin_client.post(path, json=body or {}, headers=bearer(token))
    return {"http": r.status_code, **r.json()}


def test_a_raise_approved_by_another_risk_token_lets_the_refused_order_through(
    risk_stack: Stack,
) -> None:
    s = risk_stack
    lowered = _propose(s, RISK_A, 3000)
    assert (lowered["http"], lowered["status"], lowered["change_id"]) == (200, "applied", "LC-1")
    assert s.post(s.order(quantity=4000)).json()["code"] == "MAX_ORDER_QTY"
    raised = _propose(s, RISK_A, "6000")
    assert (raised["http"], raised["status"], raised["raises"]) == (200, "pending", True)
    cid = raised["change_id"]
    assert s.post(s.order(quantity=4001)).json()["code"] == "MAX_ORDER_QTY"  # still pending
    for token in (RISK_A, RISK_A_AGAIN):  # the proposer, under either of her tokens
        own = _post(s, token, f"/limits/changes/{cid}/approve")
        assert (own["http"], own["code"]) == (403, "FOUR_EYES_REQUIRED")
    done = _post(s, RISK_B, f"/limits/changes/{cid}/approve")
    assert (done["http"], done["status"], done["approver"]) == (200, "applied", "risk-b")
    assert s.post(s.order(quantity=4002)).status_code == 201
    again = _post(s, RISK_B, f"/limits/changes/{cid}/approve")  # a replayed approve
    assert (again["http"], again["code"]) == (404, "LIMIT_CHANGE_NOT_FOUND")
    listed = s.admin_client.get("/limits/changes", headers=bearer(READER)).json()
    assert [(c["change_id"], c["status"]) for c in listed["changes"]] == [
        ("LC-2", "applied"), ("LC-1", "applied")]  # fmt: skip
    assert listed["limits_digest"] == s.harness.gateway.book.limits.digest()
    rest = s.rest_client.get("/limits", headers=bearer(RISK_KEY)).json()
    assert rest["accounts"]["desk-7"]["max_order_qty"] == 6000  # REST shows what is in force


def test_only_risk_tokens_change_limits(risk_stack: Stack) -> None:
    s = risk_stack
    for token in (ADMIN_TOKEN, READER):
        r = _propose(s, token, 3000)
        assert (r["http"], r["code"]) == (403, "UNAUTHENTICATED")
    for token in (DESK_KEY, RISK_KEY, "nonsense"):  # trading and REST keys: unknown here
        assert _propose(s, token, 3000)["http"] == 401
    pending = _propose(s, RISK_A, 20000)
    r = _post(s, ADMIN_TOKEN, f"/limits/changes/{pending['change_id']}/approve")
    assert (r["http"], r["code"]) == (403, "UNAUTHENTICATED")
    assert s.harness.gateway.book.limits.account("desk-7").max_order_qty == 10_000


def test_bad_changes_are_422_CONFIG_INVALID_and_stale_raises_409(risk_stack: Stack) -> None:
    s = risk_stack
    bad = _propose(s, RISK_A, 0)
    assert (bad["http"], bad["code"]) == (422, "CONFIG_INVALID")
    assert "greater than 0" in str(bad["message"])
    unknown = _propose(s, RISK_A, 5, path="collar.continuous_bps")
    assert (unknown["http"], unknown["code"]) == (422, "CONFIG_INVALID")
    garbage = s.admin_client.post("/limits/changes", json={"items": []}, headers=bearer(RISK_A))
    assert (garbage.status_code, garbage.json()["code"]) == (422, "SCHEMA_INVALID")
    raised = _propose(s, RISK_A, 20000)
    _propose(s, RISK_B, 9000)  # a lowering lands under the raise
    stale = _post(s, RISK_B, f"/limits/changes/{raised['change_id']}/approve")
    assert (stale["http"], stale["code"]) == (409, "LIMIT_CHANGE_STALE")
    declined = _post(s, RISK_B, f"/limits/changes/{raised['change_id']}/decline", {"reason": "x"})
    assert (declined["http"], declined["status"], declined["declined_by"]) == (
        200, "declined", "risk-b")  # fmt: skip


def test_the_dashboard_lists_pending_raises_escaped(risk_stack: Stack) -> None:
    s = risk_stack
    evil = "<script>alert(1)</script>"
    body = {"items": [{"path": QTY, "value": 20000}], "reason": evil}
    assert s.admin_client.post("/limits/changes", json=body, headers=bearer(RISK_A)).is_success
    with httpx.Client(base_url=s.admin.url, timeout=10) as client:
        assert client.post("/dashboard/login", data={"token": ADMIN_TOKEN}).status_code == 303
        page = client.get("/dashboard").text
        assert 'id="limit-changes"' in page and "LC-1" in page
        assert f"{QTY} 10000 -&gt; 20000" in page
        assert evil not in page and "&lt;script&gt;" in page
        _post(s, RISK_B, "/limits/changes/LC-1/approve")
        assert 'id="limit-changes-none"' in client.get("/dashboard").text
