"""Self-trade prevention (SELF_TRADE) across the accounts of a group, through the real
Gateway: modes reject, cancel_newest and cancel_oldest. Adversary cases: two strategies on
one account, two accounts of one group, a market order, a restart; and orders leaving the
book (filled, cancelled) no longer count as working."""

from __future__ import annotations

from decimal import Decimal

import pytest

from interlock.api.config import load_config
from interlock.domain.enums import OrderStatus, OrderType, Side
from interlock.domain.events import CancelRequested
from interlock.domain.reject import RejectCode
from interlock.errors import ConfigError
from interlock.sim.harness import DESK_KEY, MM_KEY, build, config_with

MARKET = OrderType.MARKET
SELL = Side.SELL_SHORT  # from flat: a long sale would be SHORT_MARKING; ETB needs no locate
ETB = {"easy_to_borrow": ["AAPL", "MSFT", "TSLA"]}
MM = {"account": "mm-1", "strategy": "mm"}
AT_100 = Decimal("100.00")
FIRM = {"groups": {"firm": ["desk-7", "mm-1"]}}


def test_two_strategies_on_one_account_may_not_cross() -> None:
    h = build(config_with(short_sale=ETB))
    assert h.submit(strategy="vwap", limit_price=AT_100).accepted
    d = h.submit(strategy="pairs", side=SELL, limit_price=Decimal("99.99"))
    assert d.code is RejectCode.SELF_TRADE and "group desk-7" in d.message, d.message


def test_two_accounts_of_one_group_may_not_cross_and_other_groups_may() -> None:
    h = build(config_with(short_sale=ETB))
    assert h.submit(limit_price=AT_100).accepted  # desk-7 buys
    assert h.submit(MM_KEY, side=SELL, limit_price=AT_100, **MM).accepted  # no group: may
    grouped = build(config_with(self_trade=FIRM, short_sale=ETB))
    assert grouped.submit(limit_price=AT_100).accepted
    d = grouped.submit(MM_KEY, side=SELL, limit_price=AT_100, **MM)
    assert d.code is RejectCode.SELF_TRADE and "group firm" in d.message, d.message
    assert grouped.submit(MM_KEY, side=SELL, limit_price=Decimal("100.01"), **MM).accepted


def test_a_market_order_crosses_every_working_order_on_the_other_side() -> None:
    h = build(config_with(short_sale=ETB))
    assert h.submit(side=SELL, limit_price=Decimal("100.05")).accepted  # rests, far off
    d = h.submit(order_type=MARKET)
    assert d.code is RejectCode.SELF_TRADE and "@ market" in d.message, d.message


def test_cancel_newest_refuses_the_incoming_order_and_says_so() -> None:
    h = build(config_with(self_trade={"mode": "cancel_newest"}, short_sale=ETB))
    assert h.submit(limit_price=AT_100).accepted
    d = h.submit(side=SELL, limit_price=AT_100)
    assert d.code is RejectCode.SELF_TRADE
    assert "mode cancel_newest: the new order is cancelled" in d.message


def test_cancel_oldest_cancels_the_working_order_at_the_venue_then_accepts_the_new_one() -> None:
    h = build(config_with(self_trade={"mode": "cancel_oldest"}, short_sale=ETB))
    old = h.submit(limit_price=AT_100)
    other = h.submit(quantity=150, limit_price=Decimal("99.90"))  # does not cross 99.95
    assert h.venue.leaves(old.order_id) == 100
    new = h.submit(side=SELL, limit_price=Decimal("99.95"))
    assert new.accepted, new.message
    assert h.gateway.order(old.order_id).status is OrderStatus.CANCELLED  # the venue confirmed
    assert h.venue.leaves(old.order_id) == 0
    assert h.gateway.order(other.order_id).status is OrderStatus.WORKING
    cancels = [e for _, e in h.journal.read() if isinstance(e, CancelRequested)]
    assert [c.order_id for c in cancels] == [old.order_id]
    assert cancels[0].reason.startswith("self-trade prevention: crossed by sell_short AAPL")


def test_cancel_oldest_cancels_a_pending_order_in_place_before_it_leaves() -> None:
    h = build(config_with(self_trade={"mode": "cancel_oldest"}, short_sale=ETB))
    pending = h.gateway.submit(h.order(limit_price=AT_100), DESK_KEY)  # not yet durable
    assert h.gateway.order(pending.order_id).status is OrderStatus.PENDING
    assert h.submit(side=SELL, limit_price=AT_100).accepted
    assert h.gateway.order(pending.order_id).status is OrderStatus.CANCELLED
    assert h.venue.leaves(pending.order_id) == 0  # it never left


def test_cancel_oldest_marks_an_order_being_released_and_the_release_loop_holds_it() -> None:
    h = build(config_with(self_trade={"mode": "cancel_oldest"}, short_sale=ETB))
    gw = h.gateway
    first = gw.submit(h.order(limit_price=AT_100), DESK_KEY)  # decided, not yet durable
    resting = gw.order(first.order_id)
    assert resting is not None
    resting.status = OrderStatus.RELEASING  # as the release loop marks it, about to send
    assert gw.submit(h.order(side=SELL, limit_price=AT_100), DESK_KEY).accepted
    assert resting.status is OrderStatus.CANCEL_ON_RELEASE  # not cancelled under its sender
    h.journal.flush()  # the release loop's turn: it holds the marked order back
    assert resting.status is OrderStatus.CANCELLED
    assert h.venue.leaves(first.order_id) == 0


def test_orders_that_left_the_book_no_longer_cross() -> None:
    h = build(config_with(short_sale=ETB))
    assert h.submit(order_type=MARKET).accepted  # filled at once: not working
    assert h.submit(side=SELL, quantity=50, limit_price=Decimal("100.01")).accepted
    rest = h.submit(limit_price=AT_100, quantity=70)
    assert h.gateway.cancel(rest.order_id, DESK_KEY) is None
    h.journal.flush()
    assert h.gateway.order(rest.order_id).status is OrderStatus.CANCELLED
    assert h.submit(side=SELL, quantity=60, limit_price=AT_100).accepted


def test_a_restart_rebuilds_the_working_orders_that_would_be_crossed() -> None:
    h = build(config_with(short_sale=ETB))
    assert h.submit(limit_price=AT_100).accepted
    h.journal.flush()
    h2 = build(config_with(short_sale=ETB), journal=h.journal, restart_of=h)
    d = h2.submit(side=SELL, limit_price=AT_100)
    assert d.code is RejectCode.SELF_TRADE, d.message


def test_one_account_in_two_groups_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="desk-7 is in groups a and b"):
        config_with(self_trade={"groups": {"a": ["desk-7"], "b": ["desk-7", "mm-1"]}})


def test_the_new_sections_keep_old_digests_at_their_defaults_and_change_them_when_set() -> None:
    packaged = load_config()
    assert "self_trade" not in packaged.limits.canonical_json()  # at its default: left out
    moved = config_with(self_trade={"mode": "cancel_oldest"})
    assert moved.limits.digest() != packaged.limits.digest()
    assert moved.fleet_digest() != packaged.fleet_digest()  # a member set otherwise differs


def test_when_the_best_working_order_leaves_the_next_best_is_the_one_crossed() -> None:
    h = build(config_with(short_sale=ETB))
    near = h.submit(side=SELL, quantity=10, limit_price=Decimal("100.02"))
    assert h.submit(side=SELL, quantity=11, limit_price=Decimal("100.05")).accepted
    assert h.submit(quantity=12, limit_price=Decimal("100.03")).code is RejectCode.SELF_TRADE
    assert h.gateway.cancel(near.order_id, DESK_KEY) is None
    h.journal.flush()  # the venue confirms the cancel
    assert h.submit(quantity=13, limit_price=Decimal("100.03")).accepted  # 100.05 is the best
    d = h.submit(quantity=14, limit_price=Decimal("100.05"))
    assert d.code is RejectCode.SELF_TRADE and "sell @ 100.05" in d.message, d.message
