"""Locates through the admin listener as served: an operator adds one (journaled), the
trader's short sale over REST then passes NO_LOCATE, and bad or conflicting locates get
their stable codes. A trading key is unknown on the admin port."""

from __future__ import annotations

import time
from typing import Any

from typer.testing import CliRunner

from api.conftest import ADMIN_TOKEN, DESK_KEY, Stack, bearer
from interlock.cli import app
from interlock.domain.events import LocateAdded

IN_AN_HOUR = time.time_ns() + 3_600 * 10**9


def _locate(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "locate_id": "LOC-1", "account": "desk-7", "symbol": "AAPL", "quantity": 300,
        "expires_ns": IN_AN_HOUR, "source": "prime broker",
    }  # fmt: skip
    body.update(overrides)
    return body


def test_an_operator_adds_a_locate_and_the_short_sale_then_passes(stack: Stack) -> None:
    short = stack.order(side="sell_short", quantity=200)
    assert stack.post(short).json()["code"] == "NO_LOCATE"
    r = stack.admin_client.post("/locates", json=_locate(), headers=bearer(ADMIN_TOKEN))
    assert r.status_code == 200, r.text
    assert r.json()["who"] == "ops-kill-switch" and r.json()["reserved"] == 0
    assert stack.post(stack.order(side="sell_short", quantity=200)).status_code == 201
    (listed,) = stack.admin_client.get("/locates", headers=bearer(ADMIN_TOKEN)).json()
    assert (listed["locate_id"], listed["reserved"]) == ("LOC-1", 200)
    stack.journal.flush()
    assert any(isinstance(e, LocateAdded) for _, e in stack.journal.read())


def test_a_trading_key_cannot_add_a_locate(stack: Stack) -> None:
    r = stack.admin_client.post("/locates", json=_locate(), headers=bearer(DESK_KEY))
    assert r.status_code == 401 and r.json()["code"] == "UNAUTHENTICATED"
    assert stack.harness.gateway.locates() == []


def test_a_bad_locate_is_SCHEMA_INVALID_and_a_reused_id_LOCATE_CONFLICT(stack: Stack) -> None:
    admin, auth = stack.admin_client, bearer(ADMIN_TOKEN)
    for bad in (_locate(quantity=0), _locate(symbol="ZZZZ"), _locate(expires_ns=1),
                _locate(account="nobody"), {**_locate(), "extra": 1}):  # fmt: skip
        r = admin.post("/locates", json=bad, headers=auth)
        assert r.status_code == 422 and r.json()["code"] == "SCHEMA_INVALID", r.text
    assert admin.post("/locates", json=_locate(), headers=auth).status_code == 200
    assert admin.post("/locates", json=_locate(), headers=auth).status_code == 200  # the same
    r = admin.post("/locates", json=_locate(account="mm-1"), headers=auth)
    assert r.status_code == 409 and r.json()["code"] == "LOCATE_CONFLICT"


def test_the_cli_adds_and_lists_locates_through_the_admin_listener(stack: Stack) -> None:
    runner = CliRunner()
    where = ["--admin", stack.admin.url, "--token", ADMIN_TOKEN]
    terms = ["--symbol", "MSFT", "--quantity", "250", "--expires", "2099-01-01T00:00:00Z",
             "--source", "prime broker", *where]  # fmt: skip
    added = runner.invoke(app, ["locates", "add", "LOC-9", "--account", "desk-7", *terms])
    assert added.exit_code == 0, added.output
    assert "locate LOC-9 added by ops-kill-switch: 250 MSFT for desk-7" in added.output
    listed = runner.invoke(app, ["locates", "list", *where])
    assert listed.exit_code == 0 and "LOC-9" in listed.output and "2099-01-01" in listed.output
    bad = runner.invoke(app, ["locates", "add", "LOC-9", "--account", "desk-7", "--symbol",
                              "MSFT", "--quantity", "1", "--expires", "tomorrow",
                              "--source", "pb", *where])  # fmt: skip
    assert bad.exit_code == 2 and "ISO 8601" in bad.output
    clash = runner.invoke(app, ["locates", "add", "LOC-9", "--account", "mm-1", *terms])
    assert clash.exit_code == 1 and "LOCATE_CONFLICT" in clash.output
