"""Time and trust on the order path: the lease kept alive by heartbeats, the attested build,
reference prices that must be sane, and rate windows that slide exactly at their edge and
count only accepted orders."""

from __future__ import annotations

import contextlib
from decimal import Decimal

import pytest

from interlock.api.config import load_config
from interlock.control.embedded import EmbeddedControlPlane
from interlock.control.plane import Release
from interlock.domain.commands import OrderRequest
from interlock.domain.enums import OrderType, Side
from interlock.domain.order import Order
from interlock.domain.reject import RejectCode
from interlock.gateway.gateway import Gateway
from interlock.journal.memory import MemoryJournal
from interlock.sim.harness import DESK_KEY, START_NS, Harness, ManualClock, build, config_with


def tick(h: Harness, clock: ManualClock, ms: int) -> None:
    """Let `ms` pass as a live gateway sees it: lease renewed, references refreshed."""
    clock.advance_ms(ms)
    assert h.gateway.heartbeat()
    h.refresh_references()


def test_heartbeats_inside_the_ttl_keep_the_instance_trading() -> None:
    clock = ManualClock(START_NS)
    h = build(clock=clock)  # lease TTL 2,000 ms
    for i in range(10):
        tick(h, clock, 1_500)
        assert h.submit(quantity=100 + i).accepted
    assert h.plane.members()[0].lease_expires_ns == clock.now + 2_000 * 1_000_000


def instance_rate(count: int = 2) -> Harness:
    return build(config_with(rates={"per_instance": {"count": count, "window_ms": 1_000}}),
                 clock=ManualClock(START_NS))  # fmt: skip


def test_rate_window_slides_exactly_at_its_edge() -> None:
    h = instance_rate()
    clock = h.clock
    assert isinstance(clock, ManualClock)
    assert h.submit(quantity=100).accepted and h.submit(quantity=200).accepted
    tick(h, clock, 999)
    d = h.submit(quantity=300)
    assert d.code is RejectCode.RATE_LIMIT and "3 orders in 1,000 ms" in d.message
    tick(h, clock, 1)  # the first two are now exactly one window old: outside it
    assert h.submit(quantity=300).accepted and h.submit(quantity=400).accepted
    assert h.submit(quantity=500).code is RejectCode.RATE_LIMIT


def test_orders_refused_by_the_rate_limit_do_not_fill_the_window() -> None:
    h = instance_rate()
    clock = h.clock
    assert isinstance(clock, ManualClock)
    assert h.submit(quantity=100).accepted and h.submit(quantity=200).accepted
    tick(h, clock, 500)
    for qty in (300, 301, 302):
        assert h.submit(quantity=qty).code is RejectCode.RATE_LIMIT
    tick(h, clock, 500)  # had the refusals counted, only one of these two would pass
    assert h.submit(quantity=400).accepted and h.submit(quantity=500).accepted


def test_orders_refused_by_other_checks_do_not_fill_the_window() -> None:
    h = instance_rate()
    for qty in range(100, 105):
        d = h.submit(quantity=qty, limit_price=Decimal("120.00"))
        assert d.code is RejectCode.PRICE_COLLAR
    assert h.submit(quantity=100).accepted and h.submit(quantity=200).accepted
    assert h.submit(quantity=300).code is RejectCode.RATE_LIMIT


def test_duplicate_guard_is_armed_only_by_accepted_orders() -> None:
    clock = ManualClock(START_NS)
    rates = {"per_instance": {"count": 1, "window_ms": 1_000}}
    h = build(config_with(rates=rates, duplicate_window_ms=5_000), clock=clock)
    assert h.submit(quantity=100).accepted
    assert h.submit(quantity=200).code is RejectCode.RATE_LIMIT  # checked after duplicates
    tick(h, clock, 1_000)
    assert h.submit(quantity=200).accepted  # the refused one armed nothing
    tick(h, clock, 1_000)
    assert h.submit(quantity=200).code is RejectCode.DUPLICATE_ORDER


class NullVenue:
    def send(self, order: Order) -> None:
        pass

    def cancel(self, order_id: int) -> None:
        pass


def gateway_attesting(build_digest: str, flag_digest: str) -> Gateway:
    clock = ManualClock(START_NS)
    plane = EmbeddedControlPlane(Release("approved-build", "flags-1", 1), clock=clock)
    gw = Gateway(load_config(), MemoryJournal(), NullVenue(), plane, clock=clock,
                 build_digest=build_digest, flag_digest=flag_digest).start()  # fmt: skip
    gw.update_reference("AAPL", 10_000)
    return gw


REQUEST = OrderRequest("c1", "desk-7", "vwap", "AAPL", Side.BUY, 100, limit_price=Decimal("100"))


@pytest.mark.parametrize(
    ("build_digest", "flag_digest", "why"),
    [
        ("old-build", "flags-1", "build old-build is not the released approved-build"),
        ("approved-build", "flags-0", "flag manifest flags-0 is not the released flags-1"),
    ],
)
def test_submit_from_other_than_the_release_rejects_with_INSTANCE_NOT_ATTESTED(
    build_digest: str, flag_digest: str, why: str
) -> None:
    d = gateway_attesting(build_digest, flag_digest).submit(REQUEST, DESK_KEY)
    assert d.code is RejectCode.INSTANCE_NOT_ATTESTED
    assert d.message.startswith("INSTANCE_NOT_ATTESTED: instance gw-1 is not attested")
    assert d.rejection is not None and d.rejection.attempted == why


def test_submit_from_the_released_build_is_accepted() -> None:
    assert gateway_attesting("approved-build", "flags-1").submit(REQUEST, DESK_KEY).accepted


def test_market_order_is_never_valued_at_a_zero_reference() -> None:
    h = build()
    with contextlib.suppress(ValueError):  # refusing the bad tick is a fix as well
        h.gateway.update_reference("AAPL", 0)
    d = h.gateway.submit(h.order(order_type=OrderType.MARKET, quantity=10_000), DESK_KEY)
    assert not d.accepted  # 10,000 shares is about 1,000,000 USD, over desk-7's 500,000


def test_limit_order_with_no_reference_for_its_symbol_is_refused_reference_price_stale() -> None:
    h = build(start=False)
    h.gateway.start()  # no reference price for any symbol yet
    with pytest.raises(ValueError, match="must be a positive tick count"):
        h.gateway.update_reference("AAPL", 0)  # a zero is refused, never stored as a price
    d = h.gateway.submit(h.order(limit_price=Decimal("100.00")), DESK_KEY)
    assert d.code is RejectCode.REFERENCE_PRICE_STALE
    assert d.message.startswith("REFERENCE_PRICE_STALE: no reference price for AAPL")


def test_a_zero_reference_leaves_the_last_good_one_to_judge_against() -> None:
    h = build()  # AAPL's reference is 100.00
    with pytest.raises(ValueError):
        h.gateway.update_reference("AAPL", 0)
    d = h.gateway.submit(h.order(limit_price=Decimal("120.00")), DESK_KEY)
    assert d.code is RejectCode.PRICE_COLLAR  # still collared around 100.00, not around 0


def test_reference_stamped_in_the_future_still_goes_stale() -> None:
    clock = ManualClock(START_NS)
    h = build(clock=clock)
    h.gateway.update_reference("AAPL", 10_000, ts=clock.now + 3_600_000 * 1_000_000)
    for _ in range(10):  # ten seconds with no further price
        clock.advance_ms(1_000)
        assert h.gateway.heartbeat()
    assert h.submit().code is RejectCode.REFERENCE_PRICE_STALE
