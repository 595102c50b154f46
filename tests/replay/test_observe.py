"""observe/: the runaway detectors, the reject-storm breaker and the pre-open readiness gate."""

from __future__ import annotations

from decimal import Decimal

from interlock.domain.commands import OrderRequest
from interlock.domain.decision import Decision
from interlock.domain.enums import HaltScope, Side
from interlock.domain.reject import RejectCode, reject
from interlock.observe import (
    DecisionRules,
    FillRatioRule,
    FlowRule,
    Page,
    PreOpenGate,
    RepeatedChild,
    RunawayMonitor,
    StormRule,
    TradedNotional,
    Trip,
)

MS = 1_000_000
ACCEPTED = Decision(1, None, 1)


def child(n: int = 0, parent: str | None = "P1", account: str = "acct") -> OrderRequest:
    return OrderRequest(f"c{n}", account, "smars", "K001", Side.BUY, 100,
                        limit_price=Decimal("10.00"), parent_id=parent)  # fmt: skip


def renamed(n: int) -> OrderRequest:
    """A runaway that names a new strategy and symbol on every order."""
    return OrderRequest(f"c{n}", "acct", f"strategy-{n}", f"K{n:03d}", Side.BUY, 100,
                        limit_price=Decimal("10.00"))  # fmt: skip


def refused(code: RejectCode) -> Decision:
    return Decision(None, reject(code, "no"), 1)


def test_repeated_child_trips_the_account_on_the_tenth_identical_child_inside_two_seconds() -> None:
    d = RepeatedChild(count=10, window_ms=2_000)
    trips = [d.on_decision("gw-8", child(n), ACCEPTED, n * 100 * MS) for n in range(10)]
    assert trips[:9] == [None] * 9
    trip = trips[9]
    assert trip is not None and (trip.scope, trip.target) == (HaltScope.ACCOUNT, "acct")
    assert "10 identical children of parent P1" in trip.reason and "strategy smars" in trip.reason


def test_repeated_child_ignores_refused_children_and_slow_repeats() -> None:
    d = RepeatedChild(count=3, window_ms=1_000)
    assert all(d.on_decision("gw", child(n), refused(RejectCode.RATE_LIMIT), n) is None
               for n in range(10))  # fmt: skip
    assert all(d.on_decision("gw", child(n), ACCEPTED, n * 600 * MS) is None for n in range(10))


def test_order_to_fill_trips_the_account_when_orders_stop_filling() -> None:
    d = DecisionRules(fill_ratio=FillRatioRule(max_ratio=5, min_orders=20, window_ms=2_000))
    d.on_fill("gw", "acct", 100, 1_000, 0)
    results = [d.on_decision("gw", child(n), ACCEPTED, n * MS) for n in range(20)]
    assert all(r is None for r in results[:-1])
    last = results[-1]
    assert last is not None and (last.scope, last.target) == (HaltScope.ACCOUNT, "acct")


def test_order_to_fill_sees_every_strategy_name_of_the_account_as_one() -> None:
    d = DecisionRules(fill_ratio=FillRatioRule(max_ratio=5, min_orders=20, window_ms=2_000))
    results = [d.on_decision("gw", renamed(n), ACCEPTED, n * MS) for n in range(20)]
    assert results[-1] is not None and results[-1].target == "acct"


def test_reject_storm_counts_risk_refusals_but_not_a_stopped_instance() -> None:
    d = DecisionRules(
        storm=StormRule(min_rejects=50, share=0.5, window_ms=1_000, instance_min_rejects=80)
    )
    fenced = [d.on_decision("gw-8", child(n), refused(RejectCode.INSTANCE_NOT_ATTESTED), n * MS)
              for n in range(200)]  # fmt: skip
    assert fenced == [None] * 200
    storm = [d.on_decision("gw-8", child(n), refused(RejectCode.PARENT_OVERFILL), n * MS)
             for n in range(50)]  # fmt: skip
    last = storm[-1]
    assert last is not None and "50 of 50 orders of account acct refused on gw-8" in last.reason
    assert (last.scope, last.target) == (HaltScope.ACCOUNT, "acct")


def test_reject_storm_spread_over_accounts_trips_the_instance() -> None:
    d = DecisionRules(
        storm=StormRule(min_rejects=50, share=0.5, window_ms=1_000, instance_min_rejects=80)
    )
    refusal = refused(RejectCode.POSITION_LIMIT)
    trips = [d.on_decision("gw-8", child(n, account=f"a{n % 4}"), refusal, n * MS)
             for n in range(80)]  # fmt: skip
    assert trips[:-1] == [None] * 79
    last = trips[-1]
    assert last is not None and (last.scope, last.target) == (HaltScope.INSTANCE, "gw-8")


def test_account_flow_trips_the_account_past_its_orders_per_window_whatever_the_names() -> None:
    d = DecisionRules(flow=FlowRule(max_orders=100, instance_max_orders=150, window_ms=1_000))
    trips = [d.on_decision("gw", renamed(n), ACCEPTED if n % 2 else refused(RejectCode.RATE_LIMIT),
                           n * 5 * MS) for n in range(101)]  # fmt: skip
    assert trips[:100] == [None] * 100
    last = trips[100]
    assert last is not None and (last.scope, last.target) == (HaltScope.ACCOUNT, "acct")


def test_account_flow_ignores_a_stopped_instance_and_a_slow_flow() -> None:
    d = DecisionRules(flow=FlowRule(max_orders=100, instance_max_orders=150, window_ms=1_000))
    assert all(d.on_decision("gw", child(n), refused(RejectCode.HALTED), n) is None
               for n in range(500))  # fmt: skip
    assert all(d.on_decision("gw", child(n), ACCEPTED, n * 11 * MS) is None for n in range(500))


def test_account_flow_spread_over_accounts_trips_the_instance() -> None:
    d = DecisionRules(flow=FlowRule(max_orders=100, instance_max_orders=150, window_ms=1_000))
    trips = [d.on_decision("gw-3", child(n, account=f"a{n % 3}"), ACCEPTED, n * MS)
             for n in range(151)]  # fmt: skip
    assert trips[:150] == [None] * 150
    last = trips[150]
    assert last is not None and (last.scope, last.target) == (HaltScope.INSTANCE, "gw-3")


def test_traded_notional_trips_the_account_past_its_money_per_window() -> None:
    d = TradedNotional(max_micros=1_000 * 10**6, window_ms=10_000)
    assert d.on_fill("gw", "acct", 10, 600 * 10**6, 0) is None
    assert d.on_fill("gw", "acct", 10, 400 * 10**6, 5_000 * MS) is None  # exactly the limit
    trip = d.on_fill("gw", "acct", 1, 1 * 10**6, 6_000 * MS)
    assert trip is not None and (trip.scope, trip.target) == (HaltScope.ACCOUNT, "acct")
    assert d.on_fill("gw", "other", 1, 10**6, 6_000 * MS) is None
    fresh = TradedNotional(max_micros=1_000 * 10**6, window_ms=10_000)
    fresh.on_fill("gw", "acct", 10, 600 * 10**6, 0)
    assert fresh.on_fill("gw", "acct", 10, 600 * 10**6, 10_000 * MS) is None  # first one left


def test_monitor_pulls_the_kill_switch_once_per_scope_when_fired() -> None:
    pulled: list[Trip] = []
    monitor = RunawayMonitor([RepeatedChild(count=2, window_ms=1_000)], pulled.append)
    for n in range(5):
        monitor.on_decision("gw-8", child(n), ACCEPTED, n * MS)
    assert pulled == []  # fed under the gateway's lock: nothing pulled from inside
    monitor.fire()
    assert len(pulled) == 1 and monitor.trips == pulled
    monitor.rearm(HaltScope.ACCOUNT, "acct")  # a person resumed: it may trip again
    for n in range(5, 7):
        monitor.on_decision("gw-8", child(n), ACCEPTED, n * MS)
    monitor.fire()
    assert len(pulled) == 2


def test_readiness_gate_pages_on_the_first_warning_and_is_not_ready_at_the_open() -> None:
    pages: list[Page] = []
    gate = PreOpenGate(pages.append)
    assert gate.check(5).ready and pages == []
    gate.warn(10, "gw-8", "Power Peg disabled")
    gate.warn(20, "gw-8", "Power Peg disabled")
    verdict = gate.check(30)
    assert not verdict.ready and verdict.warnings == 2 and verdict.sources == (("gw-8", 2),)
    assert [p.ts for p in pages] == [10, 30]
    assert verdict.summary() == "NOT READY: 2 warning(s) before the open from gw-8 (2)"


def test_reject_storm_after_a_burst_of_accepts_trips_the_account_before_the_instance() -> None:
    """Refusals are counted exactly in the window, not capped at the trigger: 150 accepted
    then refusals, one account: the account trips once refusals reach half its orders."""
    d = DecisionRules(storm=StormRule(min_rejects=100, share=0.5, instance_min_rejects=200))
    for n in range(150):
        assert d.on_decision("gw-8", child(n), ACCEPTED, n * MS) is None
    refusal = refused(RejectCode.POSITION_LIMIT)
    trips = [d.on_decision("gw-8", child(n), refusal, (150 + n) * MS) for n in range(150)]
    first = next(i for i, t in enumerate(trips) if t is not None)
    assert first == 149  # the 150th refusal: 150 of 300 orders
    trip = trips[first]
    assert trip is not None and (trip.scope, trip.target) == (HaltScope.ACCOUNT, "acct")
    assert "150 of 300 orders of account acct" in trip.reason
