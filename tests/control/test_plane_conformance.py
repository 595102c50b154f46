"""The ControlPlane protocol's semantics, run against every backend (conftest.BACKENDS).

What a gateway relies on: leases that expire and are announced, releases whose epoch only
rises, commits that are all-or-nothing, halts confirmed per record, budget slices that never
sum past their limit and die with the lease, and watches that deliver every change.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from plane_backends import Backend, attestation

from interlock.control.plane import (
    HaltConfirmed,
    HaltPut,
    HaltRecord,
    HaltRemoved,
    MemberJoined,
    MemberLost,
    Proposal,
    ProposalAborted,
    ProposalPut,
    Release,
    ReleaseChanged,
)
from interlock.domain.enums import HaltScope
from interlock.errors import ControlPlaneError

# -- release --------------------------------------------------------------------------------


def test_set_release_moves_only_to_a_higher_epoch_and_announces_who(backend: Backend) -> None:
    epoch = backend.plane.release().epoch
    with pytest.raises(ControlPlaneError, match="not above"):
        backend.plane.set_release(Release("b2", "f2", epoch), "ops")
    new = Release("b2", "f2", epoch + 1)
    backend.plane.set_release(new, "ops")
    assert backend.plane.release() == new
    assert backend.of(ReleaseChanged) == [ReleaseChanged(new, "ops")]


# -- members and leases ---------------------------------------------------------------------


def test_register_returns_the_deadline_and_announces_the_member(backend: Backend) -> None:
    deadline = backend.join("gw-1")
    assert deadline == backend.now() + backend.ttl_ns
    [member] = backend.plane.members()
    assert (member.attestation, member.lease_expires_ns) == (attestation("gw-1"), deadline)
    assert backend.of(MemberJoined) == [MemberJoined(member)]


def test_register_with_a_non_positive_ttl_is_refused(backend: Backend) -> None:
    with pytest.raises(ControlPlaneError, match="positive"):
        backend.plane.register(attestation("gw-1"), 0)


def test_renew_inside_the_ttl_extends_the_lease(backend: Backend) -> None:
    backend.join("gw-1")
    backend.advance_ms(backend.ttl_ms - 1)
    assert backend.plane.renew("gw-1") == backend.now() + backend.ttl_ns
    backend.advance_ms(backend.ttl_ms - 1)
    assert [m.instance_id for m in backend.plane.members()] == ["gw-1"]


def test_a_lease_not_renewed_expires_is_announced_once_and_cannot_be_renewed(
    backend: Backend,
) -> None:
    backend.join("gw-1")
    backend.join("gw-2")
    backend.advance_ms(backend.ttl_ms // 2)
    backend.plane.renew("gw-2")
    backend.advance_ms(backend.ttl_ms // 2)  # gw-1 exactly at its deadline: gone
    assert [m.instance_id for m in backend.plane.members()] == ["gw-2"]
    with pytest.raises(ControlPlaneError, match="gw-1"):
        backend.plane.renew("gw-1")
    assert backend.plane.members() and backend.of(MemberLost) == [MemberLost("gw-1")]


def test_leave_drops_the_member_and_announces_it(backend: Backend) -> None:
    backend.join("gw-1")
    backend.plane.leave("gw-1")
    backend.plane.leave("gw-1")  # twice: nothing more to announce
    assert backend.plane.members() == []
    assert backend.of(MemberLost) == [MemberLost("gw-1")]


def test_register_again_replaces_the_attestation(backend: Backend) -> None:
    backend.join("gw-1", build="old")
    backend.join("gw-1", build="new")
    assert [m.attestation.build_digest for m in backend.plane.members()] == ["new"]


# -- halts and confirmations ----------------------------------------------------------------


def halt(target: str = "AAPL", ts: int = 1) -> HaltRecord:
    return HaltRecord(HaltScope.SYMBOL, target, "runaway", "ops", ts)


def test_halts_are_put_listed_and_removed(backend: Backend) -> None:
    h = halt()
    backend.plane.put_halt(h)
    assert backend.plane.halts() == [h]
    assert backend.plane.remove_halt(HaltScope.SYMBOL, "AAPL", "ops") is True
    assert backend.plane.remove_halt(HaltScope.SYMBOL, "AAPL", "ops") is False
    assert backend.plane.halts() == []
    assert backend.of(HaltPut) == [HaltPut(h)]
    [removed] = backend.of(HaltRemoved)
    assert (removed.scope, removed.target, removed.who) == (HaltScope.SYMBOL, "AAPL", "ops")


def test_confirmations_belong_to_one_halt_record(backend: Backend) -> None:
    first = halt(ts=1)
    backend.plane.put_halt(first)
    backend.plane.confirm_halt("gw-1", first)
    backend.plane.confirm_halt("gw-2", first)
    assert backend.plane.halt_confirmations(first) == {"gw-1", "gw-2"}
    second = halt(ts=2)  # the same scope and target written again: a new record
    backend.plane.put_halt(second)
    backend.plane.confirm_halt("gw-3", first)  # late, for the replaced record: ignored
    assert backend.plane.halt_confirmations(first) == frozenset()
    assert backend.plane.halt_confirmations(second) == frozenset()
    backend.plane.confirm_halt("gw-3", second)
    assert backend.plane.halt_confirmations(second) == {"gw-3"}
    assert [(e.instance_id, e.halt) for e in backend.of(HaltConfirmed)] == [
        ("gw-1", first), ("gw-2", first), ("gw-3", second),
    ]  # fmt: skip


# -- deploy proposals and the atomic commit -------------------------------------------------


def proposal(backend: Backend, members: tuple[str, ...], build: str = "b2") -> Proposal:
    return Proposal(build, "f2", members, backend.plane.release().epoch, "ops", backend.now())


def test_only_one_proposal_may_be_pending(backend: Backend) -> None:
    p = proposal(backend, ("gw-1",))
    assert backend.plane.put_proposal(p) is True
    assert backend.plane.put_proposal(proposal(backend, ("gw-2",))) is False
    assert backend.plane.proposal() == p
    assert backend.of(ProposalPut) == [ProposalPut(p)]


def test_abort_drops_the_proposal_and_keeps_the_release(backend: Backend) -> None:
    before = backend.plane.release()
    assert backend.plane.abort_proposal("ops", "nothing to abort") is None
    p = proposal(backend, ("gw-1",))
    backend.plane.put_proposal(p)
    assert backend.plane.abort_proposal("ops", "changed my mind") == p
    assert backend.plane.proposal() is None and backend.plane.release() == before
    assert backend.of(ProposalAborted) == [ProposalAborted(p, "ops", "changed my mind")]


def test_commit_when_every_member_attests_releases_at_the_next_epoch(backend: Backend) -> None:
    base = backend.plane.release().epoch
    backend.plane.put_proposal(proposal(backend, ("gw-1", "gw-2")))
    backend.join("gw-1", "b2", "f2")
    backend.join("gw-2", "b2", "f2")
    result = backend.plane.commit_proposal("ops")
    assert result.committed == Release("b2", "f2", base + 1, ("gw-1", "gw-2"))
    assert backend.plane.release() == result.committed and backend.plane.proposal() is None
    assert backend.of(ReleaseChanged) == [ReleaseChanged(result.committed, "ops")]


@pytest.mark.parametrize(
    "gw2",
    ["absent", "old build", "old flags", "lease expired"],
)
def test_commit_with_a_member_not_attesting_changes_nothing(backend: Backend, gw2: str) -> None:
    before = backend.plane.release()
    p = proposal(backend, ("gw-1", "gw-2"))
    backend.plane.put_proposal(p)
    backend.join("gw-1", "b2", "f2")
    if gw2 == "old build":
        backend.join("gw-2", "b1", "f2")
    elif gw2 == "old flags":
        backend.join("gw-2", "b2", "f1")
    elif gw2 == "lease expired":
        backend.join("gw-2", "b2", "f2")
        backend.advance_ms(backend.ttl_ms // 2)
        backend.plane.renew("gw-1")
        backend.advance_ms(backend.ttl_ms // 2)
    result = backend.plane.commit_proposal("ops")
    assert result.committed is None and result.proposal == p
    assert backend.plane.release() == before and backend.plane.proposal() == p
    assert "gw-1" in {m.instance_id for m in result.members}
    assert backend.of(ReleaseChanged) == []


def test_commit_after_the_release_moved_under_the_proposal_is_refused(backend: Backend) -> None:
    p = proposal(backend, ("gw-1",))
    backend.plane.put_proposal(p)
    backend.join("gw-1", "b2", "f2")
    moved = Release("b9", "f9", p.base_epoch + 1)
    backend.plane.set_release(moved)
    result = backend.plane.commit_proposal("ops")
    assert result.committed is None and backend.plane.release() == moved


# -- budgets --------------------------------------------------------------------------------


def test_slices_grow_within_the_limit_and_shrink_on_request(backend: Backend) -> None:
    backend.join("gw-1")
    backend.join("gw-2")
    assert backend.plane.lease_slice("pos/a/X", "gw-1", 1_000, 700) == 700
    assert backend.plane.lease_slice("pos/a/X", "gw-2", 1_000, 700) == 300  # what is left
    assert backend.plane.lease_slice("pos/a/X", "gw-1", 1_000, 200) == 200  # gives 500 back
    assert backend.plane.lease_slice("pos/a/X", "gw-2", 1_000, 900) == 800
    assert backend.plane.slices("pos/a/X") == {"gw-1": 200, "gw-2": 800}


def test_slices_stay_held_when_the_lease_is_lost_until_an_operator_releases_them(
    backend: Backend,
) -> None:
    backend.join("gw-1")
    backend.join("gw-2")
    backend.plane.lease_slice("pos/a/X", "gw-1", 1_000, 1_000)
    backend.advance_ms(backend.ttl_ms // 2)
    backend.plane.renew("gw-2")
    backend.advance_ms(backend.ttl_ms // 2)
    # gw-1's positions and working orders outlive its lease: its slice is still counted
    assert backend.plane.lease_slice("pos/a/X", "gw-2", 1_000, 1_000) == 0
    assert backend.plane.slices("pos/a/X") == {"gw-1": 1_000}
    backend.plane.release_slices("gw-1")
    assert backend.plane.lease_slice("pos/a/X", "gw-2", 1_000, 1_000) == 1_000
    assert backend.plane.slices("pos/a/X") == {"gw-2": 1_000}


def test_a_live_instance_s_slices_cannot_be_released_by_an_operator(backend: Backend) -> None:
    backend.join("gw-1")
    backend.plane.lease_slice("pos/a/X", "gw-1", 1_000, 10)
    with pytest.raises(ControlPlaneError, match="is live"):
        backend.plane.release_slices("gw-1")


def test_a_slice_without_a_lease_is_refused(backend: Backend) -> None:
    with pytest.raises(ControlPlaneError, match="no lease"):
        backend.plane.lease_slice("pos/a/X", "gw-1", 1_000, 10)


def test_a_holder_asking_under_another_limit_is_refused(backend: Backend) -> None:
    backend.join("gw-1")
    backend.join("gw-2")
    backend.plane.lease_slice("pos/a/X", "gw-1", 1_000, 10)
    with pytest.raises(ControlPlaneError, match="disagrees"):
        backend.plane.lease_slice("pos/a/X", "gw-2", 2_000, 10)


slice_steps = st.lists(
    st.tuples(st.sampled_from(["gw-1", "gw-2", "gw-3", "expire-gw-3"]), st.integers(0, 1_500)),
    max_size=40,
)


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=slice_steps)
def test_slices_in_force_never_sum_past_the_limit(
    make_backend: Callable[[], Backend], steps: list[tuple[str, int]]
) -> None:
    b = make_backend()
    for i in ("gw-1", "gw-2", "gw-3"):
        b.join(i)
    for who, want in steps:
        if who == "expire-gw-3":  # gw-3 stops renewing; the others carry on
            for _ in range(2):
                b.advance_ms(b.ttl_ms // 2)
                for i in ("gw-1", "gw-2"):
                    b.plane.renew(i)
            continue
        if who not in {m.instance_id for m in b.plane.members()}:
            continue
        before = b.plane.slices("pos")
        granted = b.plane.lease_slice("pos", who, 1_000, want)
        assert granted <= want or granted == before.get(who, 0)
        assert granted >= min(want, before.get(who, 0))  # growth never takes away
        assert sum(b.plane.slices("pos").values()) <= 1_000


# -- watch ----------------------------------------------------------------------------------


def test_unsubscribed_watchers_hear_nothing_more(backend: Backend) -> None:
    heard: list[object] = []
    stop = backend.plane.watch(heard.append)
    backend.plane.put_halt(halt())
    stop()
    backend.plane.put_halt(halt("MSFT"))
    assert heard == [HaltPut(halt())]


def test_a_failing_watcher_does_not_keep_events_from_the_others(backend: Backend) -> None:
    def broken(_: object) -> None:
        raise RuntimeError("watcher bug")

    later: list[object] = []
    backend.plane.watch(broken)
    backend.plane.watch(later.append)
    backend.plane.put_halt(halt())
    assert later == [HaltPut(halt())]
