"""A Principal passed inward has exactly the rights of its key: its own accounts only,
and only if the gateway's one authenticator issued it."""

from __future__ import annotations

from decimal import Decimal

from interlock.api.rest.app import create_app
from interlock.domain.commands import ParentOrder
from interlock.domain.enums import Side
from interlock.domain.events import CancelRequested
from interlock.domain.reject import RejectCode
from interlock.gateway.auth import Principal
from interlock.sim.harness import DESK_KEY, MM_KEY, Harness, build


def _principals(h: Harness) -> tuple[Principal, Principal]:
    desk, mm = h.gateway.auth.principal(DESK_KEY), h.gateway.auth.principal(MM_KEY)
    assert desk is not None and mm is not None
    assert "mm-1" not in desk.accounts and "mm-1" in mm.accounts
    return desk, mm


def _resting_mm_order(h: Harness, mm: Principal) -> int:
    d = h.gateway.submit(h.order(account="mm-1", strategy="quotes", quantity=10,
                                 limit_price=Decimal("99.50")), mm)  # fmt: skip
    h.journal.flush()
    assert d.accepted and d.order_id is not None
    return d.order_id


def test_a_principal_of_account_A_cannot_submit_for_account_B() -> None:
    h = build()
    desk, mm = _principals(h)
    d = h.gateway.submit(h.order(account="mm-1", strategy="quotes"), desk)
    assert d.code is RejectCode.UNAUTHENTICATED
    assert h.gateway.submit(h.order(), desk).accepted
    assert h.gateway.submit(h.order(account="mm-1", strategy="quotes"), mm).accepted


def test_a_principal_of_account_A_cannot_cancel_an_order_of_account_B() -> None:
    h = build()
    desk, mm = _principals(h)
    order_id = _resting_mm_order(h, mm)
    other = h.gateway.cancel(order_id, desk)  # the same answer as for an unknown id
    assert other is not None and other.code is RejectCode.ORDER_NOT_FOUND
    refused = h.gateway.mass_cancel(desk, account="mm-1")
    assert not isinstance(refused, list) and refused.code is RejectCode.NOT_ACCOUNT_OWNER
    assert h.gateway.mass_cancel(desk) == []  # its own accounts only: none open
    order = h.gateway.order(order_id)
    assert order is not None and order.status.is_open
    assert not [e for _, e in h.journal.read() if isinstance(e, CancelRequested)]
    assert h.gateway.cancel(order_id, mm) is None


def test_a_principal_of_account_A_cannot_declare_a_parent_for_account_B() -> None:
    h = build()
    desk, mm = _principals(h)
    parent = ParentOrder("par-1", "mm-1", "AAPL", Side.BUY, 1_000)
    refused = h.gateway.declare_parent(parent, desk)
    assert refused is not None and refused.code is RejectCode.NOT_ACCOUNT_OWNER
    assert h.gateway.declare_parent(parent, mm) is None


def test_a_principal_the_authenticator_never_issued_is_refused_even_with_its_fields() -> None:
    h = build()
    _, mm = _principals(h)
    order_id = _resting_mm_order(h, mm)
    forged = Principal(mm.name, mm.accounts, mm.strategies, mm.role)
    d = h.gateway.submit(h.order(account="mm-1", strategy="quotes"), forged)
    assert d.code is RejectCode.UNAUTHENTICATED
    assert h.gateway.cancel(order_id, forged) is not None
    assert not isinstance(h.gateway.mass_cancel(forged), list)
    order = h.gateway.order(order_id)
    assert order is not None and order.status.is_open


def test_a_read_only_rest_principal_trades_nothing() -> None:
    h = build()
    assert h.gateway.auth.principal("demo-risk-key") is None  # REST's keys, REST's to add
    create_app(h.gateway)  # the REST edge admits its read-only keys to the one authenticator
    risk = h.gateway.auth.principal("demo-risk-key")
    assert risk is not None and risk.sees_all and not risk.accounts
    assert h.gateway.submit(h.order(), risk).code is RejectCode.UNAUTHENTICATED
    assert not h.gateway.book.orders


def test_a_principal_looping_on_its_own_account_trips_its_halt_as_a_key_does() -> None:
    """The reject-storm rule reads the caller's accounts from the Principal itself."""
    h = build()
    desk, _ = _principals(h)
    for n in range(101):
        h.gateway.submit(h.order(strategy=f"loop-{n}", quantity=1 + n), desk)
    assert [(x.scope.value, x.target) for x in h.plane.halts()] == [("account", "desk-7")]
