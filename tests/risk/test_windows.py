"""SlidingWindow, KeyedWindows, Throttles and RecentOrders: exact behaviour at the edges.

A window of length T ending at `now` holds the stamps t with now - T < t <= now: an order
exactly T old has left it.
"""

from __future__ import annotations

from interlock.risk.limits import LimitsConfig, RateLimit, RateLimits, compile_account
from interlock.risk.windows import (
    AccountWindows,
    KeyedWindows,
    NotionalWindow,
    RecentOrders,
    SlidingWindow,
    Throttles,
)

MS = 1_000_000
T0 = 1_754_040_600_000_000_000


def window(count: int = 2, window_ms: int = 1_000) -> SlidingWindow:
    return SlidingWindow(RateLimit(count=count, window_ms=window_ms))


def test_window_is_not_full_until_count_orders_are_recorded() -> None:
    w = window(count=3)
    for i in range(2):
        w.record(T0 + i)
        assert not w.full(T0 + i)
    w.record(T0 + 2)
    assert w.full(T0 + 2)


def test_window_is_full_until_the_oldest_stamp_is_exactly_one_window_old() -> None:
    w = window()
    w.record(T0)
    w.record(T0 + 400 * MS)
    assert w.full(T0 + 1_000 * MS - 1)  # oldest is 1 ns inside the window
    assert not w.full(T0 + 1_000 * MS)  # exactly one window old: outside
    assert w.in_window(T0 + 1_000 * MS - 1) == 2
    assert w.in_window(T0 + 1_000 * MS) == 1
    assert w.in_window(T0 + 1_400 * MS) == 0


def test_window_keeps_only_the_last_count_stamps() -> None:
    w = window(count=2)
    for i in range(5):
        w.record(T0 + i * MS)
    assert list(w.stamps) == [T0 + 3 * MS, T0 + 4 * MS]
    assert w.full(T0 + 1_002 * MS)  # the older three no longer matter
    assert not w.full(T0 + 1_003 * MS)


def test_checking_a_window_never_changes_it() -> None:
    w = window()
    w.record(T0)
    w.record(T0)
    for now in (T0, T0 + 999 * MS, T0 + 5_000 * MS):
        w.full(now)
        w.in_window(now)
    assert list(w.stamps) == [T0, T0]


def test_keyed_windows_are_created_on_first_record_and_are_independent() -> None:
    keyed = KeyedWindows(RateLimit(count=1, window_ms=1_000))
    assert keyed.windows == {} and keyed.limit.count == 1
    keyed.record("vwap", T0)
    keyed.record("pairs", T0 + 10 * MS)
    assert set(keyed.windows) == {"vwap", "pairs"}
    assert keyed.windows["vwap"].full(T0 + 500 * MS)
    assert not keyed.windows["vwap"].full(T0 + 1_000 * MS)
    assert keyed.windows["pairs"].full(T0 + 1_000 * MS)


def test_throttles_and_account_windows_build_every_envelope_from_the_limits() -> None:
    rates = RateLimits(
        per_instance=RateLimit(count=5, window_ms=100),
        per_strategy=RateLimit(count=4, window_ms=200),
        per_symbol=RateLimit(count=3, window_ms=300),
        market_per_symbol=RateLimit(count=2, window_ms=400),
    )
    t = Throttles(rates)
    assert (t.instance.count, t.instance.window_ns) == (5, 100 * MS)
    limits = LimitsConfig(rates=rates)
    risk = compile_account("desk-7", limits)
    w = AccountWindows(risk, rates, frozenset({"vwap"}))
    assert w.strategy.limit == rates.per_strategy
    assert w.symbol.limit == rates.per_symbol
    assert w.market_symbol.limit == rates.market_per_symbol
    assert (w.orders_s.count, w.orders_s.window_ns) == (100, 1_000 * MS)
    assert (w.orders_min.count, w.orders_min.window_ns) == (3_000, 60_000 * MS)
    assert w.notional_s.limit == 5_000_000 * 1_000_000
    assert w.notional_min.limit == 25_000_000 * 1_000_000
    assert w.strategy_key("vwap") == "vwap"
    assert w.strategy_key("new-name-17") == "*"  # undeclared names share one window


def test_notional_window_sums_inside_the_window_and_forgets_what_expired() -> None:
    w = NotionalWindow(1_000, 1_000)
    w.record(T0, 600)
    assert not w.over(400, T0 + 10 * MS)
    assert w.over(401, T0 + 10 * MS)
    w.record(T0 + 500 * MS, 400)
    assert w.over(1, T0 + 999 * MS)
    assert not w.over(600, T0 + 1_000 * MS)  # the first 600 left the window
    assert w.used(T0 + 1_000 * MS) == 400


def test_notional_windows_far_from_their_limit_keep_only_their_span() -> None:
    """The checks prune a notional window only near its limit; recording prunes too, so an
    account far below its notional limits (the usual case, or limits set out of reach)
    holds one window of orders, not every order of the day (the soak's RSS slope)."""
    risk = compile_account("desk-7", LimitsConfig())
    w = AccountWindows(risk, RateLimits(), frozenset({"vwap"}))
    for i in range(180_000):  # 3 minutes at 1 order/ms, each far under either limit
        w.record("vwap", "AAPL", 1, False, T0 + i * MS)
    now = T0 + 179_999 * MS
    assert len(w.notional_s.stamps) == len(w.notional_s.amounts) == 1_000
    assert len(w.notional_min.stamps) == len(w.notional_min.amounts) == 60_000
    assert w.notional_s.total == 1_000 and w.notional_min.total == 60_000
    assert w.notional_min.used(now) == 60_000  # the sum is the window's, as before
    alone = NotionalWindow(10**15, 1_000)
    for i in range(5_000):
        alone.record(T0 + i * MS, 7)
    assert len(alone.stamps) == 1_000 and alone.total == 7_000


KEY = ("desk-7", "AAPL", 1, 100, 10_000)


def test_recent_order_is_a_duplicate_until_exactly_one_window_old() -> None:
    recent = RecentOrders(1_000)
    assert recent.seen_within(KEY, T0) is None
    recent.record(KEY, T0)
    assert recent.seen_within(KEY, T0) == 0
    assert recent.seen_within(KEY, T0 + 1_000 * MS - 1) == 1_000 * MS - 1
    assert recent.seen_within(KEY, T0 + 1_000 * MS) is None
    assert recent.seen_within(("desk-7", "AAPL", -1, 100, 10_000), T0) is None  # other side


def test_recording_again_restarts_the_window_for_that_key() -> None:
    recent = RecentOrders(1_000)
    recent.record(KEY, T0)
    recent.record(KEY, T0 + 900 * MS)
    assert recent.seen_within(KEY, T0 + 1_500 * MS) == 600 * MS


def test_zero_length_duplicate_window_never_reports_a_duplicate() -> None:
    recent = RecentOrders(0)
    recent.record(KEY, T0)
    assert recent.seen_within(KEY, T0) is None


def test_sweep_drops_entries_outside_the_window_and_keeps_those_inside() -> None:
    recent = RecentOrders(1_000)
    for i in range(1_022):
        recent.record(("old", i), T0)
    recent.record(("young", 0), T0 + 1)
    recent.record(("new", 0), T0 + 1_000 * MS)  # 1,024 entries: a sweep
    assert set(recent.last) == {("young", 0), ("new", 0)}
    assert recent.seen_within(("young", 0), T0 + 1_000 * MS) == 1_000 * MS - 1
    assert recent.seen_within(("old", 5), T0 + 1_000 * MS) is None


def test_sweep_never_drops_an_entry_still_inside_the_window() -> None:
    recent = RecentOrders(1_000)
    for i in range(3_000):
        recent.record(("k", i), T0 + i)  # all within one millisecond
    assert len(recent.last) == 3_000
    assert all(recent.seen_within(("k", i), T0 + 3_000) is not None for i in range(3_000))
