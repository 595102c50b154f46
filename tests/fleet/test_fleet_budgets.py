"""Fleet budgets on the order path: a position limit made fleet-wide by leased slices.

Without a budget each instance enforces the account's limit alone, so two instances may
together hold twice it; with one, the instances share the one limit."""

from __future__ import annotations

from fleet_kit import budget_config, fleet, submit, tick

from interlock.domain.reject import RejectCode
from interlock.sim.harness import DESK_KEY

BUDGET = "position/desk-7/AAPL"


def test_without_a_budget_each_instance_enforces_the_limit_alone() -> None:
    f, _ = fleet(2, budget_config(on=False))
    assert submit(f, "gw-1", 1, quantity=800).accepted
    assert submit(f, "gw-2", 2, quantity=800).accepted  # 1,600 fleet-wide over 1,000
    assert f.plane.slices(BUDGET) == {}


def test_an_instance_is_refused_what_the_others_hold_of_the_fleet_limit() -> None:
    f, _ = fleet(2, budget_config(limit=1_000, slice_shares=500))
    assert submit(f, "gw-1", 1, quantity=800).accepted
    assert f.plane.slices(BUDGET) == {"gw-1": 1_000}
    d = submit(f, "gw-2", 2, quantity=300)
    assert d.code is RejectCode.POSITION_LIMIT
    assert d.message == (
        "POSITION_LIMIT: worst-case position 300 shares would pass this instance's slice 0 of "
        "the fleet-wide limit 1,000 shares (account desk-7, AAPL); other instances hold 1,000"
    )
    assert submit(f, "gw-1", 3, quantity=200).accepted  # gw-1 still has room in its slice
    assert submit(f, "gw-2", 4, symbol="MSFT", quantity=300).accepted  # no budget on MSFT


def test_slice_not_in_use_goes_back_at_the_next_heartbeat() -> None:
    f, clock = fleet(2, budget_config(limit=1_000, slice_shares=500))
    d = submit(f, "gw-1", 1, quantity=800)
    assert d.order_id is not None
    assert f["gw-1"].cancel(d.order_id, DESK_KEY) is None
    f["gw-1"].on_cancelled(d.order_id, 800, "venue confirmed")
    tick(f, clock, 500)
    assert f.plane.slices(BUDGET) == {}
    assert submit(f, "gw-2", 2, quantity=900).accepted
    assert f.plane.slices(BUDGET) == {"gw-2": 1_000}


def test_a_filled_position_keeps_its_slice() -> None:
    f, clock = fleet(2, budget_config(limit=1_000, slice_shares=100))
    d = submit(f, "gw-1", 1, quantity=650)
    assert d.order_id is not None
    f["gw-1"].on_fill(d.order_id, 650, 10_000, "x-1")
    tick(f, clock, 500)
    assert f.plane.slices(BUDGET) == {"gw-1": 700}  # 650 rounded up to the chunk
    assert submit(f, "gw-2", 2, quantity=300).accepted
    assert submit(f, "gw-2", 3, quantity=1).code is RejectCode.POSITION_LIMIT


def test_a_restarted_instance_takes_back_the_slice_its_recovered_orders_use() -> None:
    f, _ = fleet(2, budget_config(limit=1_000, slice_shares=100))
    assert submit(f, "gw-1", 1, quantity=650).accepted
    r = f.plane.release()
    f.restart("gw-1", r.build_digest, r.flag_digest)  # leaving returned the slice...
    assert f.plane.slices(BUDGET) == {"gw-1": 700}  # ...joining took it back, before routing
    assert submit(f, "gw-2", 2, quantity=301).code is RejectCode.POSITION_LIMIT


def test_a_dead_instance_s_slice_stays_counted_while_its_position_is_out_there() -> None:
    f, clock = fleet(3, budget_config(limit=1_000, slice_shares=1_000))
    assert submit(f, "gw-1", 1, quantity=500).accepted
    assert submit(f, "gw-2", 2, quantity=500).code is RejectCode.POSITION_LIMIT
    for _ in range(4):
        tick(f, clock, 500, renew=["gw-2", "gw-3"])  # gw-1's heartbeat dies
    # gw-1 may still hold 500 shares or have them working: the fleet keeps counting them
    assert f.plane.slices(BUDGET) == {"gw-1": 1_000}
    assert submit(f, "gw-2", 3, quantity=500).code is RejectCode.POSITION_LIMIT
