"""REST authentication and roles, the health probe and the published OpenAPI."""

from __future__ import annotations

from collections.abc import Callable

import httpx

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


class _CountingKeys(dict[str, object]):
    """The gateway authenticator's key cache, counting every lookup of a key."""

    lookups = 0

    def get(self, key: str, default: object = None) -> object:  # type: ignore[override]
        self.lookups += 1
        return super().get(key, default)


def test_each_request_resolves_its_key_once_through_the_gateways_authenticator(
    stack: Stack,
) -> None:
    auth = stack.harness.gateway.auth
    keys = auth._known = _CountingKeys(auth._known)  # type: ignore[assignment]

    def lookups_of(call: Callable[[], httpx.Response], status: int) -> int:
        before = keys.lookups
        r = call()
        assert r.status_code == status, r.text
        return keys.lookups - before

    client, desk = stack.rest_client, bearer(DESK_KEY)
    placed: list[int] = []

    def place() -> httpx.Response:
        r = stack.post(stack.order())
        placed.append(r.json().get("order_id", 0))
        return r

    assert lookups_of(place, 201) == 1
    oid = placed[0]
    assert lookups_of(lambda: client.get(f"/orders/{oid}", headers=desk), 200) == 1
    assert lookups_of(lambda: client.get("/positions", headers=bearer(RISK_KEY)), 200) == 1
    assert lookups_of(lambda: client.delete(f"/orders/{oid}", headers=desk), 202) == 1
    assert lookups_of(lambda: place(), 201) == 1
    mass = lambda: client.post("/orders/mass-cancel", json={}, headers=desk)  # noqa: E731
    assert lookups_of(mass, 202) == 1
