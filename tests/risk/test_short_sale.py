"""SHORT_MARKING and NO_LOCATE (Reg SHO 200(g), 203(b)) on the order path as built, with
the adversary's ways round them: many small sells, another account, a restart, a cancel,
an expired locate, the easy-to-borrow list."""

from __future__ import annotations

from decimal import Decimal

from interlock.domain.commands import ParentOrder
from interlock.domain.enums import OrderType, Side
from interlock.domain.reject import RejectCode
from interlock.risk.checks.adv import check_adv
from interlock.risk.checks.short_sale import check_locate, check_short_marking
from interlock.sim.harness import DESK_KEY, MM_KEY, START_NS, Harness, build, config_with

HOUR = 3_600 * 10**9
MM = {"account": "mm-1", "strategy": "mm"}
RESTING = Decimal("101.00")  # a sell above the mid: it rests, holding what it holds


def _long(h: Harness, qty: int, symbol: str = "AAPL", key: str = DESK_KEY, **who: str) -> None:
    """Buy `qty` at the market: filled, so the account holds it."""
    d = h.submit(key, symbol=symbol, quantity=qty, order_type=OrderType.MARKET, **who)
    assert h.gateway.order(d.order_id).filled == qty  # type: ignore[union-attr]


def _locate(h: Harness, qty: int, *, lid: str = "L1", account: str = "desk-7",
            symbol: str = "AAPL", hours: int = 4) -> None:  # fmt: skip
    assert h.gateway.add_locate(lid, account, symbol, qty, START_NS + hours * HOUR,
                                "prime-broker", "ops") is None  # fmt: skip


def test_a_sell_from_flat_is_mis_marked_and_rejects_with_SHORT_MARKING() -> None:
    d = build().submit(side=Side.SELL, quantity=100)
    assert d.code is RejectCode.SHORT_MARKING
    assert d.rejection is not None and d.rejection.message.startswith("SHORT_MARKING: sell of 100")
    assert (d.rejection.limit, d.rejection.attempted) == (0, 100)


def test_a_sell_covered_by_the_position_passes_and_one_share_more_rejects() -> None:
    h = build()
    _long(h, 300)
    assert h.submit(side=Side.SELL, quantity=301).code is RejectCode.SHORT_MARKING
    assert h.submit(side=Side.SELL, quantity=300, limit_price=RESTING).accepted


def test_splitting_a_sell_into_small_sells_never_sells_more_than_the_position() -> None:
    h = build()
    _long(h, 300)
    ok = [
        h.submit(side=Side.SELL, quantity=100, limit_price=RESTING + Decimal(i) / 100)
        for i in range(3)
    ]
    assert all(d.accepted for d in ok)  # three resting sells hold the whole position
    assert h.submit(side=Side.SELL, quantity=1, limit_price=RESTING + Decimal("0.09")).code is (
        RejectCode.SHORT_MARKING
    )
    h.gateway.cancel(ok[0].order_id, DESK_KEY)  # type: ignore[arg-type]
    h.journal.flush()
    assert h.submit(side=Side.SELL, quantity=100, limit_price=RESTING + Decimal("0.09")).accepted


def test_another_account_long_the_symbol_does_not_cover_this_accounts_sell() -> None:
    h = build()
    _long(h, 500, key=MM_KEY, **MM)
    assert h.submit(side=Side.SELL, quantity=100).code is RejectCode.SHORT_MARKING


def test_a_short_sale_without_a_locate_rejects_with_NO_LOCATE() -> None:
    d = build().submit(side=Side.SELL_SHORT, quantity=100)
    assert d.code is RejectCode.NO_LOCATE
    assert d.rejection is not None and (d.rejection.limit, d.rejection.attempted) == (0, 100)


def test_a_locate_covers_its_quantity_and_not_a_share_more() -> None:
    h = build()
    _locate(h, 200)
    assert h.submit(side=Side.SELL_SHORT, quantity=201).code is RejectCode.NO_LOCATE
    assert h.submit(side=Side.SELL_SHORT, quantity=200, limit_price=RESTING).accepted


def test_two_open_short_sales_cannot_both_use_the_same_located_shares() -> None:
    h = build()
    _locate(h, 200)
    assert h.submit(side=Side.SELL_SHORT, quantity=150, limit_price=RESTING).accepted
    d = h.submit(side=Side.SELL_SHORT, quantity=100, limit_price=RESTING + Decimal("0.01"))
    assert d.code is RejectCode.NO_LOCATE and d.rejection is not None
    assert d.rejection.limit == 50
    assert h.submit(
        side=Side.SELL_SHORT, quantity=50, limit_price=RESTING + Decimal("0.01")
    ).accepted


def test_a_cancelled_short_sale_releases_its_locate_reservation() -> None:
    h = build()
    _locate(h, 200)
    d = h.submit(side=Side.SELL_SHORT, quantity=200, limit_price=RESTING)
    assert h.submit(side=Side.SELL_SHORT, quantity=1, limit_price=RESTING).code is (
        RejectCode.NO_LOCATE
    )
    h.gateway.cancel(d.order_id, DESK_KEY)  # type: ignore[arg-type]
    h.journal.flush()
    assert h.gateway.locates()[0].reserved == 0
    assert h.submit(
        side=Side.SELL_SHORT, quantity=200, limit_price=RESTING + Decimal("0.01")
    ).accepted


def test_fills_of_short_sales_use_up_the_locate() -> None:
    h = build()
    _locate(h, 300)
    assert h.submit(side=Side.SELL_SHORT, quantity=200, order_type=OrderType.MARKET).accepted
    (loc,) = h.gateway.locates()
    assert (loc.used, loc.reserved) == (200, 0)
    assert h.submit(side=Side.SELL_SHORT, quantity=101).code is RejectCode.NO_LOCATE


def test_a_second_account_cannot_use_another_accounts_locate() -> None:
    h = build()
    _locate(h, 1_000)  # desk-7's
    d = h.submit(MM_KEY, side=Side.SELL_SHORT, quantity=100, **MM)
    assert d.code is RejectCode.NO_LOCATE


def test_an_expired_locate_refuses_by_the_gateway_clock() -> None:
    h = build()
    _locate(h, 1_000, hours=1)
    assert h.submit(side=Side.SELL_SHORT, quantity=100, limit_price=RESTING).accepted
    h.clock.now = START_NS + HOUR  # type: ignore[attr-defined]
    h.gateway.heartbeat()  # the lease, renewed as serve's heartbeat does
    h.refresh_references()
    assert h.submit(
        side=Side.SELL_SHORT, quantity=100, limit_price=RESTING + Decimal("0.01")
    ).code is (RejectCode.NO_LOCATE)


def test_a_restart_keeps_each_locates_used_and_reserved_shares() -> None:
    h = build()
    _locate(h, 500)
    _locate(h, 100, lid="L2", account="mm-1")
    assert h.submit(side=Side.SELL_SHORT, quantity=200, order_type=OrderType.MARKET).accepted
    assert h.submit(side=Side.SELL_SHORT, quantity=250, limit_price=RESTING).accepted
    h.journal.flush()
    before = [(x.locate_id, x.account, x.used, x.reserved) for x in h.gateway.locates()]
    assert before == [("L1", "desk-7", 200, 250), ("L2", "mm-1", 0, 0)]
    h2 = build(journal=h.journal, restart_of=h)
    assert [(x.locate_id, x.account, x.used, x.reserved) for x in h2.gateway.locates()] == before
    assert h2.submit(side=Side.SELL_SHORT, quantity=51, limit_price=RESTING).code is (
        RejectCode.NO_LOCATE
    )
    assert h2.submit(side=Side.SELL_SHORT, quantity=50, limit_price=RESTING).accepted


def test_a_restart_keeps_the_position_a_sell_is_judged_against() -> None:
    h = build()
    _long(h, 100)
    assert h.submit(side=Side.SELL, quantity=60, limit_price=RESTING).accepted
    h.journal.flush()
    h2 = build(journal=h.journal, restart_of=h)
    assert h2.submit(side=Side.SELL, quantity=41, limit_price=RESTING).code is (
        RejectCode.SHORT_MARKING
    )
    assert h2.submit(side=Side.SELL, quantity=40, limit_price=RESTING).accepted


def test_an_easy_to_borrow_symbol_needs_no_locate_and_uses_none() -> None:
    h = build(config_with(short_sale={"easy_to_borrow": ["MSFT"]}))
    _locate(h, 100, symbol="MSFT")
    assert h.submit(symbol="MSFT", side=Side.SELL_SHORT, quantity=4_000,
                    limit_price=RESTING).accepted  # fmt: skip
    assert h.gateway.locates()[0].reserved == 0
    assert h.submit(side=Side.SELL_SHORT, quantity=100).code is RejectCode.NO_LOCATE  # AAPL


def test_a_reused_locate_id_on_other_terms_rejects_with_LOCATE_CONFLICT() -> None:
    h = build()
    _locate(h, 100)
    _locate(h, 100)  # the same terms again: nothing new
    r = h.gateway.add_locate("L1", "mm-1", "AAPL", 100, START_NS + HOUR, "prime-broker", "ops")
    assert r is not None and r.code is RejectCode.LOCATE_CONFLICT
    assert len(h.gateway.locates()) == 1


def test_a_malformed_locate_rejects_with_SCHEMA_INVALID() -> None:
    gw = build().gateway
    for args in (("L", "nobody", "AAPL", 1, START_NS + HOUR),
                 ("L", "desk-7", "ZZZZ", 1, START_NS + HOUR),
                 ("L", "desk-7", "AAPL", 0, START_NS + HOUR),
                 ("L", "desk-7", "AAPL", 1, START_NS)):  # fmt: skip
        r = gw.add_locate(*args, "pb", "ops")
        assert r is not None and r.code is RejectCode.SCHEMA_INVALID, args
    assert gw.locates() == []


def _agency(h: Harness, qty: int, side: Side = Side.SELL, account: str = "desk-7") -> None:
    parent = ParentOrder("P1", account, "AAPL", side, qty)
    key = DESK_KEY if account == "desk-7" else MM_KEY
    assert h.gateway.declare_parent(parent, key) is None


def test_an_agency_accounts_customer_sale_is_covered_by_its_parent_and_not_a_share_more() -> None:
    h = build(config_with(short_sale={"agency_accounts": ["desk-7"]}))
    _agency(h, 300)
    ok = [h.submit(side=Side.SELL, quantity=100, parent_id="P1",
                   limit_price=RESTING + Decimal(i) / 100) for i in range(3)]  # fmt: skip
    assert all(d.accepted for d in ok)
    d = h.submit(side=Side.SELL, quantity=1, parent_id="P1", limit_price=RESTING)
    assert d.code is RejectCode.SHORT_MARKING and d.rejection is not None
    assert "customer sell parent P1 has 0 shares unsold" in d.rejection.reason
    assert h.submit(side=Side.SELL, quantity=1).code is RejectCode.SHORT_MARKING  # no parent


def test_an_agency_child_of_a_buy_parent_or_no_declared_parent_is_not_covered() -> None:
    h = build(config_with(short_sale={"agency_accounts": ["desk-7"]}))
    _agency(h, 300, side=Side.BUY)
    for parent in ("P1", "P-unknown"):
        assert h.submit(side=Side.SELL, quantity=100, parent_id=parent).code is (
            RejectCode.SHORT_MARKING
        )


def test_a_sell_parent_covers_nothing_in_an_account_that_is_not_an_agency_account() -> None:
    h = build()
    _agency(h, 300)
    assert h.submit(side=Side.SELL, quantity=100, parent_id="P1").code is (RejectCode.SHORT_MARKING)


def test_a_resent_short_sale_with_its_idempotency_key_reserves_the_locate_once() -> None:
    h = build()
    _locate(h, 200)
    first = h.order(side=Side.SELL_SHORT, quantity=200, limit_price=RESTING, idempotency_key="k")
    assert h.gateway.submit(first, DESK_KEY).accepted
    again = h.gateway.submit(first, DESK_KEY)  # the strategy retries after a timeout
    assert again.replayed and again.order_id is not None
    assert h.gateway.locates()[0].reserved == 200


def test_the_checks_are_on_in_every_instance_built_from_the_packaged_config() -> None:
    gw = build().gateway  # build_instance, as serve, the demo and the replay build one
    on = set(gw.engine._checks)
    assert {check_short_marking, check_locate, check_adv} <= on
