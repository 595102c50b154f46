"""SELF_TRADE, MESSAGE_RATE and ORDER_TO_TRADE_RATIO over a real REST listener, on the
config as served (the packaged one, through the same `build_instance` as `interlock
serve`), and a throttled cancel as a command refusal with its status."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from api.conftest import Stack, _stack, bearer
from api.test_rest_codes import refused
from interlock.api.config import parse_config
from interlock.domain.reject import RejectCode
from interlock.sim.harness import DESK_KEY, around_the_clock


@pytest.fixture
def throttled_stack(tmp_path: Path) -> Iterator[Stack]:
    """Three messages a minute per session (a minute: the wall clock must not slide it)."""
    data = around_the_clock().model_dump(mode="json")
    data["limits"]["messages"] = {"per_session": {"count": 3, "window_ms": 60_000}}
    yield from _stack(tmp_path, parse_config(data, "throttled REST test config"))


def test_the_served_config_refuses_an_order_crossing_its_own_working_order(stack: Stack) -> None:
    # SPY: easy to borrow in the packaged config, so a short sale from flat needs no locate
    assert stack.post(stack.order(symbol="SPY", limit_price="100.00")).status_code == 201  # rests
    body = refused(stack.post(stack.order(symbol="SPY", side="sell_short", limit_price="100.00")),
                   409, RejectCode.SELF_TRADE)  # fmt: skip
    assert body["limit"] == "no cross within group desk-7"


def test_a_cancel_over_the_throttle_is_429_MESSAGE_RATE_and_cancels_nothing(
    throttled_stack: Stack,
) -> None:
    s = throttled_stack
    ids = [s.post(s.order()).json()["order_id"] for _ in range(2)]
    assert s.rest_client.delete(f"/orders/{ids[0]}", headers=bearer(DESK_KEY)).status_code == 202
    body = refused(s.rest_client.delete(f"/orders/{ids[1]}", headers=bearer(DESK_KEY)), 429,
                   RejectCode.MESSAGE_RATE)  # fmt: skip
    assert "session desk-7-algo messages (cancel)" in body["message"]
    assert s.harness.gateway.order(ids[1]).status.is_open  # type: ignore[union-attr]
    r = s.rest_client.post(
        "/orders/mass-cancel", json={"account": "desk-7"}, headers=bearer(DESK_KEY)
    )
    refused(r, 429, RejectCode.MESSAGE_RATE)
    refused(s.post(s.order()), 429, RejectCode.MESSAGE_RATE)
