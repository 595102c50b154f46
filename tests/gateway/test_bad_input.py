"""Bad input stays inside the contract at the gateway, which every transport passes: a key
of the wrong type is UNAUTHENTICATED, a control character in an id is SCHEMA_INVALID
naming the field, and nothing a caller hands `submit` makes it raise."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from interlock.domain.commands import OrderRequest, ParentOrder
from interlock.domain.enums import OrderType, Side, TimeInForce, TradingSession
from interlock.domain.reject import RejectCode
from interlock.sim.harness import DESK_KEY, Harness, build

WRONG_KEYS = [None, 7, 7.5, ["demo-desk-7-key"], {"k": 1}, b"demo-desk-7-key", "\ud800", ""]
CONTROL = ["\x1b[2J", "a\nb", "a\x00", "a\x7f", "a\x85", "a\x9b31m", "a\u2028b", "\t"]
TEXT_FIELDS = ["client_order_id", "account", "strategy", "symbol"]
OPTIONAL_TEXT = ["parent_id", "idempotency_key"]


@pytest.fixture(scope="module")
def h() -> Harness:
    return build()


@pytest.mark.parametrize("key", WRONG_KEYS, ids=repr)
def test_submit_with_a_key_of_the_wrong_type_is_UNAUTHENTICATED(h: Harness, key: Any) -> None:
    decision = h.gateway.submit(h.order(), key)
    assert decision.rejection is not None
    assert decision.rejection.code is RejectCode.UNAUTHENTICATED


@pytest.mark.parametrize("key", WRONG_KEYS, ids=repr)
def test_cancel_and_declare_parent_with_a_key_of_the_wrong_type_are_UNAUTHENTICATED(
    h: Harness, key: Any
) -> None:
    accepted = h.submit(quantity=100 + h._n[0])  # a new quantity: never a duplicate
    assert accepted.order_id is not None, accepted
    refusal = h.gateway.cancel(accepted.order_id, key)
    assert refusal is not None and refusal.code is RejectCode.UNAUTHENTICATED
    assert h.gateway.order(accepted.order_id).status.is_open  # type: ignore[union-attr]
    parent = ParentOrder("p-wrong-key", "desk-7", "AAPL", Side.BUY, 100)
    refusal = h.gateway.declare_parent(parent, key)
    assert refusal is not None and refusal.code is RejectCode.UNAUTHENTICATED
    assert "p-wrong-key" not in h.gateway.book.parents


@pytest.mark.parametrize("field", TEXT_FIELDS + OPTIONAL_TEXT)
@pytest.mark.parametrize("text", CONTROL, ids=ascii)
def test_a_control_character_in_an_id_is_SCHEMA_INVALID_naming_the_field(
    h: Harness, field: str, text: str
) -> None:
    decision = h.submit(**{field: text, "limit_price": Decimal("100.00")})
    assert decision.rejection is not None
    assert decision.rejection.code is RejectCode.SCHEMA_INVALID
    assert decision.rejection.reason.startswith(f"{field} must be"), decision.rejection.reason


def test_printable_non_ascii_ids_are_still_accepted() -> None:
    assert build().submit(client_order_id="ordre-é-1", idempotency_key="clé-1").accepted


# Anything a transport bug could hand over: every field any type, or not a request at all.
ANY = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=140),
    st.binary(max_size=8),
    st.decimals(),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
    st.sampled_from([*Side, *OrderType, *TimeInForce, *TradingSession, "buy", "limit"]),
)
FIELD = {
    "client_order_id": st.one_of(st.text(max_size=140), ANY),
    "account": st.one_of(st.sampled_from(["desk-7", "mm-1"]), ANY),
    "strategy": st.one_of(st.just("vwap"), ANY),
    "symbol": st.one_of(st.sampled_from(["AAPL", "KCG", "NOPE"]), ANY),
    "side": st.one_of(st.sampled_from(list(Side)), ANY),
    "quantity": st.one_of(st.integers(-10, 10**13), ANY),
    "order_type": st.one_of(st.sampled_from(list(OrderType)), ANY),
    "limit_price": st.one_of(st.decimals(allow_nan=True, allow_infinity=True), ANY),
    "time_in_force": st.one_of(st.sampled_from(list(TimeInForce)), ANY),
    "session": st.one_of(st.sampled_from(list(TradingSession)), ANY),
    "parent_id": ANY,
    "idempotency_key": ANY,
}
VALID = st.builds(
    OrderRequest,
    client_order_id=st.text(min_size=1, max_size=20),
    account=st.just("desk-7"),
    strategy=st.just("vwap"),
    symbol=st.just("AAPL"),
    side=st.sampled_from(list(Side)),
    quantity=st.integers(1, 50),
    limit_price=st.just(Decimal("100.00")),
)
REQUESTS = st.one_of(VALID, st.builds(OrderRequest, **FIELD), ANY)
KEYS = st.one_of(st.sampled_from([DESK_KEY, "demo-mm-key"]), ANY)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(request=REQUESTS, key=KEYS)
def test_submit_never_raises_whatever_the_request_and_key(request: Any, key: Any) -> None:
    if not _fresh:
        _fresh.append(build())
    h = _fresh[0]
    decision = h.gateway.submit(request, key)
    assert decision.accepted or decision.rejection is not None
    h.journal.flush()  # the decision is journaled, so it must encode
    assert h.gateway.cancel(decision.order_id or 0, key) is not None or decision.accepted


_fresh: list[Harness] = []  # one gateway for every example: state builds up, as in life
