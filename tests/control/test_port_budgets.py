"""BudgetPort, against every backend: fleet-wide limits cut into slices that never sum
past the limit, grow only into what the others leave, shrink on request, and stay held
after their holder's lease is lost until an operator releases them.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from plane_backends import Backend

from interlock.errors import ControlPlaneError


def test_slices_grow_within_the_limit_and_shrink_on_request(backend: Backend) -> None:
    backend.join("gw-1")
    backend.join("gw-2")
    assert backend.plane.lease_slice("pos/a/X", "gw-1", 1_000, 700) == 700
    assert backend.plane.lease_slice("pos/a/X", "gw-2", 1_000, 700) == 300  # what is left
    assert backend.plane.lease_slice("pos/a/X", "gw-1", 1_000, 200) == 200  # gives 500 back
    assert backend.plane.lease_slice("pos/a/X", "gw-2", 1_000, 900) == 800
    assert backend.plane.slices("pos/a/X") == {"gw-1": 200, "gw-2": 800}
    assert backend.plane.slices("pos/a/Y") == {}  # budgets are separate


def test_slices_stay_held_when_the_lease_is_lost_until_an_operator_releases_them(
    backend: Backend,
) -> None:
    backend.join("gw-1")
    backend.join("gw-2")
    backend.plane.lease_slice("pos/a/X", "gw-1", 1_000, 1_000)
    backend.advance_ms(backend.ttl_ms // 2)
    backend.plane.renew("gw-2")
    backend.advance_ms(backend.ttl_ms // 2)
    backend.eventually(lambda: backend.ids() == ["gw-2"], what="gw-1's lease gone")
    # gw-1's positions and working orders outlive its lease: its slice is still counted
    assert backend.plane.lease_slice("pos/a/X", "gw-2", 1_000, 1_000) == 0
    assert backend.plane.slices("pos/a/X") == {"gw-1": 1_000}
    backend.plane.release_slices("gw-1")
    assert backend.plane.lease_slice("pos/a/X", "gw-2", 1_000, 1_000) == 1_000
    assert backend.plane.slices("pos/a/X") == {"gw-2": 1_000}


def test_a_member_that_left_keeps_its_slices_and_takes_them_back_on_rejoining(
    backend: Backend,
) -> None:
    backend.join("gw-1")
    backend.plane.lease_slice("pos/a/X", "gw-1", 1_000, 600)
    backend.plane.leave("gw-1")
    assert backend.plane.slices("pos/a/X") == {"gw-1": 600}
    with pytest.raises(ControlPlaneError, match="no lease"):
        backend.plane.lease_slice("pos/a/X", "gw-1", 1_000, 700)
    backend.join("gw-1")
    assert backend.plane.lease_slice("pos/a/X", "gw-1", 1_000, 700) == 700


def test_a_live_instance_s_slices_cannot_be_released_by_an_operator(backend: Backend) -> None:
    backend.join("gw-1")
    backend.plane.lease_slice("pos/a/X", "gw-1", 1_000, 10)
    with pytest.raises(ControlPlaneError, match="is live"):
        backend.plane.release_slices("gw-1")
    assert backend.plane.slices("pos/a/X") == {"gw-1": 10}


def test_a_slice_without_a_lease_is_refused(backend: Backend) -> None:
    with pytest.raises(ControlPlaneError, match="no lease"):
        backend.plane.lease_slice("pos/a/X", "gw-1", 1_000, 10)
    assert backend.plane.slices("pos/a/X") == {}


def test_a_holder_asking_under_another_limit_is_refused(backend: Backend) -> None:
    backend.join("gw-1")
    backend.join("gw-2")
    backend.plane.lease_slice("pos/a/X", "gw-1", 1_000, 10)
    with pytest.raises(ControlPlaneError, match="disagrees"):
        backend.plane.lease_slice("pos/a/X", "gw-2", 2_000, 10)
    assert backend.plane.slices("pos/a/X") == {"gw-1": 10}


slice_steps = st.lists(
    st.tuples(st.sampled_from(["gw-1", "gw-2", "gw-3", "lose-gw-3"]), st.integers(0, 1_500)),
    max_size=40,
)


def test_slices_in_force_never_sum_past_the_limit(make_backend: Callable[[], Backend]) -> None:
    probe = make_backend()  # how many examples this backend affords

    @settings(max_examples=probe.examples, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
    @given(steps=slice_steps)
    def program(steps: list[tuple[str, int]]) -> None:
        b = make_backend()
        for i in ("gw-1", "gw-2", "gw-3"):
            b.join(i)
        for who, want in steps:
            if who == "lose-gw-3":  # gw-3 is lost (it left; expiry is the same to a slice)
                b.plane.leave("gw-3")
                continue
            if who not in b.ids():
                continue
            before = b.plane.slices("pos")
            granted = b.plane.lease_slice("pos", who, 1_000, want)
            assert granted <= want or granted == before.get(who, 0)
            assert granted >= min(want, before.get(who, 0))  # growth never takes away
            assert sum(b.plane.slices("pos").values()) <= 1_000

    program()
