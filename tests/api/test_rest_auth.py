"""REST authentication and roles, the health probe and the published OpenAPI."""

from __future__ import annotations

from api.conftest import ADMIN_TOKEN, DESK_KEY, OPERATOR_KEY, RISK_KEY, Stack, bearer


def test_post_order_without_a_key_answers_401_with_a_bearer_challenge(stack: Stack) -> None:
    r = stack.rest_client.post("/orders", json=stack.order())
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == "Bearer"
    assert r.json()["code"] == "UNAUTHENTICATED"


def test_post_order_with_an_unknown_key_answers_401(stack: Stack) -> None:
    r = stack.post(stack.order(), key="not-a-key")
    assert (r.status_code, r.json()["code"]) == (401, "UNAUTHENTICATED")


def test_admin_token_cannot_place_orders_on_the_rest_port(stack: Stack) -> None:
    r = stack.post(stack.order(), key=ADMIN_TOKEN)
    assert r.status_code == 401
    assert stack.harness.gateway.book.orders == {}


def test_read_only_roles_may_not_trade_and_operator_may_not_read_limits(stack: Stack) -> None:
    for key in (RISK_KEY, OPERATOR_KEY):
        r = stack.post(stack.order(), key=key)
        assert (r.status_code, r.json()["code"]) == (403, "UNAUTHENTICATED"), key
        assert stack.rest_client.get("/positions", headers=bearer(key)).status_code == 200
    r = stack.rest_client.get("/limits", headers=bearer(OPERATOR_KEY))
    assert r.status_code == 403
    assert stack.rest_client.get("/limits", headers=bearer(DESK_KEY)).status_code == 200


def test_health_answers_without_a_key_and_reports_the_gate(stack: Stack) -> None:
    body = stack.rest_client.get("/health").json()
    assert body["status"] == "ok" and body["gate"] == "routing"
    assert body["instance_id"] == "gw-1"


def test_openapi_is_published_with_every_route_and_the_bearer_scheme(stack: Stack) -> None:
    spec = stack.rest_client.get("/openapi.json").json()
    assert {"/orders", "/orders/{order_id}", "/positions", "/limits", "/health"} <= set(
        spec["paths"]
    )
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    post = spec["paths"]["/orders"]["post"]
    assert {"201", "403", "409", "422", "423", "429"} <= set(post["responses"])
