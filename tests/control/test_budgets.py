"""One instance's budget slices: asked for only when too small, in chunks, given back when
idle, gone with the lease."""

from __future__ import annotations

from plane_backends import Backend

from interlock.control.budgets import BudgetSpec, FleetBudgets
from interlock.domain.reject import RejectCode, render

SPEC = BudgetSpec("desk-7", "AAPL", limit=1_000, chunk=300)


class CountingPlane:
    """Counts lease_slice calls on top of a real backend's plane."""

    def __init__(self, backend: Backend) -> None:
        self.plane = backend.plane
        self.calls = 0

    def __getattr__(self, name: str) -> object:
        return getattr(self.plane, name)

    def lease_slice(self, budget: str, instance_id: str, limit: int, want: int) -> int:
        self.calls += 1
        return self.plane.lease_slice(budget, instance_id, limit, want)


def budgets(backend: Backend, instance_id: str) -> tuple[FleetBudgets, CountingPlane]:
    backend.join(instance_id)
    plane = CountingPlane(backend)
    return FleetBudgets(plane, instance_id, [SPEC]), plane  # type: ignore[arg-type]


def test_need_within_the_slice_held_asks_nothing(backend: Backend) -> None:
    b, plane = budgets(backend, "gw-1")
    assert b.admit(SPEC, 100) is None and plane.calls == 1  # first ask: one chunk
    assert b.granted[("desk-7", "AAPL")] == 300
    assert b.admit(SPEC, 300) is None and plane.calls == 1
    assert b.admit(SPEC, 301) is None and plane.calls == 2  # rounded up to the next chunk
    assert b.granted[("desk-7", "AAPL")] == 600


def test_need_past_what_the_fleet_left_rejects_with_POSITION_LIMIT(backend: Backend) -> None:
    one, _ = budgets(backend, "gw-1")
    two, _ = budgets(backend, "gw-2")
    assert one.admit(SPEC, 800) is None  # 900 held: 3 chunks
    assert two.admit(SPEC, 100) is None  # 100: all that is left
    r = two.admit(SPEC, 101)
    assert r is not None and r.code is RejectCode.POSITION_LIMIT
    assert r.message == (
        "POSITION_LIMIT: worst-case position 101 shares would pass this instance's slice 100 "
        "of the fleet-wide limit 1,000 shares (account desk-7, AAPL); other instances hold 900"
    )
    assert (render(r.limit), render(r.attempted)) == ("100", "101")


def test_trim_gives_back_what_is_not_used_rounded_up_to_the_chunk(backend: Backend) -> None:
    b, _ = budgets(backend, "gw-1")
    b.admit(SPEC, 850)
    assert b.granted[("desk-7", "AAPL")] == 900
    b.trim(lambda spec: 310)
    assert b.granted[("desk-7", "AAPL")] == 600
    assert backend.plane.slices(SPEC.key) == {"gw-1": 600}
    b.trim(lambda spec: 0)
    assert backend.plane.slices(SPEC.key) == {}


def test_without_a_lease_the_budget_cannot_be_checked_and_the_order_is_refused(
    backend: Backend,
) -> None:
    b, _ = budgets(backend, "gw-1")
    backend.plane.leave("gw-1")
    b.lost()
    r = b.admit(SPEC, 10)
    assert r is not None and r.code is RejectCode.POSITION_LIMIT
    assert "cannot be checked" in r.reason and "no lease" in r.reason
