"""The idempotency store keeps one small entry per key for the day: the first payload and
its decision, never the transport's request object, with one Decimal per distinct price;
replays and conflicts answer exactly as before, whatever form the enum fields came in."""

from __future__ import annotations

import sys
from decimal import Decimal

from interlock.domain.commands import OrderRequest
from interlock.domain.decision import Decision
from interlock.domain.enums import OrderType, Side, TimeInForce
from interlock.domain.reject import RejectCode
from interlock.gateway.idempotency import IdempotencyStore
from interlock.sim.harness import DESK_KEY, build


def _request(cid: str, key: str, price: str = "100.10", **overrides: object) -> OrderRequest:
    fields: dict[str, object] = dict(
        client_order_id=cid, account="desk-7", strategy="vwap", symbol="AAPL",
        side=Side.BUY, quantity=100, order_type=OrderType.LIMIT, limit_price=Decimal(price),
        idempotency_key=key,
    )  # fmt: skip
    fields.update(overrides)
    return OrderRequest(**fields)  # type: ignore[arg-type]


def test_bind_keeps_no_reference_to_the_request_or_its_decision() -> None:
    store = IdempotencyStore()
    request, decision = _request("c1", "k-1"), Decision(7, None, 3)
    price = request.limit_price
    held = sys.getrefcount(request), sys.getrefcount(decision), sys.getrefcount(price)
    store.bind("desk-7-algo", request, decision)
    after = sys.getrefcount(request), sys.getrefcount(decision), sys.getrefcount(price)
    assert after == (held[0], held[1], held[2] + 3)  # only the price: the cache and the entry
    replay = store.lookup("desk-7-algo", _request("c1", "k-1"))
    assert replay == Decision(7, None, 3, replayed=True)
    assert len(store) == 1


def test_equal_prices_share_one_decimal_and_still_compare_by_value() -> None:
    store = IdempotencyStore()
    store.bind("p", _request("c1", "k-1", "100.10"), Decision(1, None, 1))
    store.bind("p", _request("c2", "k-2", "100.1"), Decision(2, None, 2))
    (_, first, _), (_, second, _) = store.entries()
    assert first.limit_price is second.limit_price  # one object for the two keys
    assert store.lookup("p", _request("c2", "k-2", "100.10")) == Decision(2, None, 2, True)
    other = store.lookup("p", _request("c2", "k-2", "100.11"))
    assert other is not None and not isinstance(other, Decision)
    assert other.code is RejectCode.IDEMPOTENCY_CONFLICT


def test_the_first_decision_wins_and_every_field_of_the_payload_counts() -> None:
    store = IdempotencyStore()
    store.bind("p", _request("c1", "k-1"), Decision(1, None, 1))
    store.bind("p", _request("c1", "k-1"), Decision(9, None, 9))  # a later bind never wins
    assert store.lookup("p", _request("c1", "k-1")) == Decision(1, None, 1, replayed=True)
    changes: list[dict[str, object]] = [
        {"client_order_id": "c9"}, {"account": "mm-1"}, {"strategy": "pairs"},
        {"symbol": "MSFT"}, {"side": Side.SELL}, {"quantity": 200},
        {"order_type": OrderType.MARKET, "limit_price": None},
        {"time_in_force": TimeInForce.IOC}, {"parent_id": "P1"},
    ]  # fmt: skip
    for change in changes:
        got = store.lookup("p", _request("c1", "k-1", **change))
        assert not isinstance(got, Decision) and got is not None, change
        assert got.code is RejectCode.IDEMPOTENCY_CONFLICT, change
    assert store.lookup("q", _request("c1", "k-1")) is None  # another principal's key


def test_conflict_on_a_key_first_used_with_string_enum_values_names_the_first_order() -> None:
    h = build()
    first = h.gateway.submit(h.order(idempotency_key="k-1", side="buy"), DESK_KEY)  # as text
    assert first.accepted
    d = h.gateway.submit(h.order(idempotency_key="k-1", quantity=300), DESK_KEY)
    assert d.code is RejectCode.IDEMPOTENCY_CONFLICT
    assert "buy 100 AAPL" in d.message and "c1" in d.message
