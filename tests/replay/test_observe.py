"""observe/: the runaway detectors, the reject-storm breaker and the pre-open readiness gate."""

from __future__ import annotations

from decimal import Decimal

from interlock.domain.commands import OrderRequest
from interlock.domain.decision import Decision
from interlock.domain.enums import HaltScope, Side
from interlock.domain.reject import RejectCode, reject
from interlock.observe import (
    OrderToFillRatio,
    Page,
    PreOpenGate,
    RejectStorm,
    RepeatedChild,
    RunawayMonitor,
    Trip,
)

MS = 1_000_000
ACCEPTED = Decision(1, None, 1)


def child(n: int = 0, parent: str | None = "P1") -> OrderRequest:
    return OrderRequest(f"c{n}", "acct", "smars", "K001", Side.BUY, 100,
                        limit_price=Decimal("10.00"), parent_id=parent)  # fmt: skip


def refused(code: RejectCode) -> Decision:
    return Decision(None, reject(code, "no"), 1)


def test_repeated_child_trips_on_the_tenth_identical_child_inside_two_seconds() -> None:
    d = RepeatedChild(count=10, window_ms=2_000)
    trips = [d.on_decision("gw-8", child(n), ACCEPTED, n * 100 * MS) for n in range(10)]
    assert trips[:9] == [None] * 9
    trip = trips[9]
    assert trip is not None and (trip.scope, trip.target) == (HaltScope.STRATEGY, "smars")
    assert "10 identical children of parent P1" in trip.reason


def test_repeated_child_ignores_refused_children_and_slow_repeats() -> None:
    d = RepeatedChild(count=3, window_ms=1_000)
    assert all(d.on_decision("gw", child(n), refused(RejectCode.RATE_LIMIT), n) is None
               for n in range(10))  # fmt: skip
    assert all(d.on_decision("gw", child(n), ACCEPTED, n * 600 * MS) is None for n in range(10))


def test_order_to_fill_trips_when_orders_stop_filling() -> None:
    d = OrderToFillRatio(max_ratio=5, min_orders=20, window_ms=2_000)
    d.on_fill("gw", "smars", 100, 0)
    results = [d.on_decision("gw", child(n), ACCEPTED, n * MS) for n in range(20)]
    assert results[-1] is not None and all(r is None for r in results[:-1])


def test_reject_storm_counts_risk_refusals_but_not_a_stopped_instance() -> None:
    d = RejectStorm(min_rejects=50, share=0.5, window_ms=1_000)
    fenced = [d.on_decision("gw-8", child(n), refused(RejectCode.INSTANCE_NOT_ATTESTED), n * MS)
              for n in range(200)]  # fmt: skip
    assert fenced == [None] * 200
    storm = [d.on_decision("gw-8", child(n), refused(RejectCode.PARENT_OVERFILL), n * MS)
             for n in range(50)]  # fmt: skip
    assert storm[-1] is not None and "50 of 50 orders refused on gw-8" in storm[-1].reason


def test_monitor_pulls_the_kill_switch_once_per_scope() -> None:
    pulled: list[Trip] = []
    monitor = RunawayMonitor([RepeatedChild(count=2, window_ms=1_000)], pulled.append)
    for n in range(5):
        monitor.on_decision("gw-8", child(n), ACCEPTED, n * MS)
    assert len(pulled) == 1 and monitor.trips == pulled


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
