"""The admin listener: its own credentials, halt and resume, fleet and halts views."""

from __future__ import annotations

from api.conftest import ADMIN_TOKEN, DESK_KEY, RISK_KEY, Stack, bearer

GLOBAL_HALT = {"scope": "global", "reason": "test: stop everything"}


def test_trading_and_rest_keys_are_unknown_on_the_admin_port(stack: Stack) -> None:
    for key in (DESK_KEY, RISK_KEY, "nonsense"):
        r = stack.admin_client.post("/halt", json=GLOBAL_HALT, headers=bearer(key))
        assert (r.status_code, r.json()["code"]) == (401, "UNAUTHENTICATED"), key
        assert stack.admin_client.get("/fleet", headers=bearer(key)).status_code == 401
    assert stack.admin_client.post("/halt", json=GLOBAL_HALT).status_code == 401
    assert stack.harness.plane.halts() == []


def test_admin_port_serves_only_the_fleet_routes(stack: Stack) -> None:
    r = stack.admin_client.post("/orders", json=stack.order(), headers=bearer(ADMIN_TOKEN))
    assert r.status_code in (404, 405)
    paths = set(stack.admin_client.get("/openapi.json").json()["paths"])
    assert paths == {
        "/halt", "/resume", "/fleet", "/fleet/members", "/halts",
        "/deploy/propose", "/deploy/readiness", "/deploy/commit", "/deploy/abort",
        "/deploy/rollback",
        "/flags", "/flags/{name}/retire", "/flags/{name}/enable", "/flags/{name}/disable",
        "/preopen", "/preopen/ack",
        "/limits/changes", "/limits/changes/{change_id}/approve",
        "/limits/changes/{change_id}/decline",
        "/locates",
        "/adv", "/adv/reload",
        "/metrics",
    }  # fmt: skip


def test_halt_refuses_new_orders_with_HALTED_cancels_open_ones_and_resume_lifts_it(
    stack: Stack,
) -> None:
    resting = stack.post(stack.order()).json()["order_id"]
    r = stack.admin_client.post("/halt", json=GLOBAL_HALT, headers=bearer(ADMIN_TOKEN))
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["complete"] and report["confirmed"] == ["gw-1"]
    assert report["summary"].startswith("1/1 halted in ")
    assert report["halt"]["who"] == "ops-kill-switch"

    refused = stack.post(stack.order())
    assert (refused.status_code, refused.json()["code"]) == (423, "HALTED")
    got = stack.rest_client.get(f"/orders/{resting}", headers=bearer(DESK_KEY)).json()
    assert got["status"] == "cancelled"
    halts = stack.admin_client.get("/halts", headers=bearer(ADMIN_TOKEN)).json()
    assert [(h["scope"], h["reason"]) for h in halts] == [("global", GLOBAL_HALT["reason"])]

    lifted = stack.admin_client.post(
        "/resume", json={"scope": "global"}, headers=bearer(ADMIN_TOKEN)
    )
    assert lifted.json() == {"lifted": True}
    assert stack.post(stack.order()).status_code == 201
    assert stack.admin_client.get("/halts", headers=bearer(ADMIN_TOKEN)).json() == []


def test_symbol_halt_refuses_only_that_symbol(stack: Stack) -> None:
    halt = {"scope": "symbol", "target": "AAPL", "reason": "test: bad prints"}
    assert stack.admin_client.post("/halt", json=halt, headers=bearer(ADMIN_TOKEN)).is_success
    assert stack.post(stack.order()).status_code == 423
    assert stack.post(stack.order(symbol="MSFT")).status_code == 201


def test_halt_body_must_match_scope_and_target(stack: Stack) -> None:
    bad = {"scope": "symbol", "reason": "no target"}
    r = stack.admin_client.post("/halt", json=bad, headers=bearer(ADMIN_TOKEN))
    assert (r.status_code, r.json()["code"]) == (422, "SCHEMA_INVALID")
    assert stack.harness.plane.halts() == []


def test_fleet_lists_this_instance_routing_under_a_lease(stack: Stack) -> None:
    fleet = stack.admin_client.get("/fleet", headers=bearer(ADMIN_TOKEN)).json()
    assert fleet["this_instance"] == "gw-1" and fleet["this_gate"] == "routing"
    (member,) = fleet["members"]
    assert member["instance_id"] == "gw-1" and member["lease_left_ms"] > 0
    assert member["config_digest"] == stack.harness.gateway.config.fleet_digest()
    assert fleet["config_digest"] == stack.harness.plane.release().config_digest
