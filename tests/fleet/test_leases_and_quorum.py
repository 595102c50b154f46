"""Leases on a manual clock (no sleeps): an instance that stops renewing stops routing within
its TTL by itself; a fleet that loses its majority stops with FLEET_NO_QUORUM; the order
path never calls the control plane."""

from __future__ import annotations

from typing import Any

import pytest
from fleet_kit import budget_config, fleet, submit, tick

from interlock.control.embedded import EmbeddedControlPlane
from interlock.control.plane import Release
from interlock.domain.reject import RejectCode

TTL_MS = 2_000  # the packaged default lease_ttl_ms


def test_an_instance_that_stops_renewing_stops_routing_within_its_ttl() -> None:
    f, clock = fleet()
    others = [i for i in f.ids if i != "gw-3"]
    last_renewal = clock.now
    n = 0
    while True:
        tick(f, clock, 100, renew=others)  # gw-3's heartbeat has died
        n += 1
        d = submit(f, "gw-3", n)
        if not d.accepted:
            break
        assert clock.now < last_renewal + TTL_MS * 1_000_000
    assert d.code is RejectCode.CONTROL_PLANE_LOST
    assert clock.now == last_renewal + TTL_MS * 1_000_000  # the first instant past its lease
    assert d.message == (
        "CONTROL_PLANE_LOST: instance gw-3 lease expired 0 ms ago; it may not route until it "
        "renews with the control plane"
    )
    assert all(submit(f, i, 5_000 + k).accepted for k, i in enumerate(others))  # 7 of 8: quorum
    tick(f, clock, 100, renew=others)
    assert submit(f, "gw-3", 9_998).code is RejectCode.CONTROL_PLANE_LOST
    # Renewing cannot bring the lease back: the next heartbeat joins again under a new
    # lease, attested afresh against the fleet as it is now, and only then does gw-3 route.
    assert f["gw-3"].heartbeat() is True
    assert submit(f, "gw-3", 9_999).accepted


def test_a_lost_instance_rejoins_only_under_the_release_in_force_when_it_comes_back() -> None:
    f, clock = fleet()
    others = [i for i in f.ids if i != "gw-3"]
    for _ in range(5):
        tick(f, clock, 500, renew=others)  # gw-3 paused past its lease
    r = f.plane.release()
    f.plane.set_release(Release("b-next", r.flag_digest, r.epoch + 1, tuple(others)), "ops")
    assert f["gw-3"].heartbeat() is True  # joined again under a new lease...
    d = submit(f, "gw-3", 1)
    assert d.code is RejectCode.INSTANCE_NOT_ATTESTED  # ...but its build is not the release
    assert "is not the released b-next" in d.message


def test_a_lost_instance_routes_again_only_after_a_restart_rejoins_it() -> None:
    f, clock = fleet()
    others = [i for i in f.ids if i != "gw-3"]
    for _ in range(5):
        tick(f, clock, 500, renew=others)
    assert f.status().rows[2].lease_left_ms is None
    gw = f.restart("gw-3", *_attested(f))
    assert submit(f, "gw-3", 1).accepted and gw.gate.open


def _attested(f: Any) -> tuple[str, str]:
    r = f.plane.release()
    return r.build_digest, r.flag_digest


def test_a_fleet_that_loses_its_majority_stops_routing_with_FLEET_NO_QUORUM() -> None:
    f, clock = fleet()
    survivors = ["gw-1", "gw-2", "gw-3", "gw-4"]
    for _ in range(5):
        tick(f, clock, 500, renew=survivors)  # gw-5..8 die; the plane announces them lost
    assert len(f.plane.members()) == 4
    d = submit(f, "gw-1", 1)
    assert d.code is RejectCode.FLEET_NO_QUORUM
    assert "4 live member(s)" in d.message and "quorum is 5 of 8 expected" in d.message
    f.restart("gw-5", *_attested(f))  # one comes back: 5 of 8
    assert submit(f, "gw-1", 2).accepted


@pytest.mark.parametrize("budgets", [False, True], ids=["plain", "slice-held"])
def test_the_order_path_makes_no_control_plane_call(budgets: bool) -> None:
    f, _ = fleet(3, budget_config(limit=20_000, slice_shares=20_000) if budgets else None)
    assert submit(f, "gw-1", 0).accepted  # with a budget, this first order takes the slice
    plane = f.plane

    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("the control plane was called on the order path")

    names = [n for n in vars(EmbeddedControlPlane) if not n.startswith("__")]
    saved = {n: getattr(plane, n) for n in names}
    for name in names:
        setattr(plane, name, refuse)
    try:
        # inside the shipped per-symbol envelope (20 a second): a refusal is no plane call
        decisions = [submit(f, "gw-1", n) for n in range(1, 20)]
    finally:
        for name, method in saved.items():
            setattr(plane, name, method)
    assert [d.message for d in decisions if not d.accepted] == []
