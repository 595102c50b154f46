"""The instance gate's cached verdict: attestation, epoch fencing, quorum, lease.

The order path trusts `open` and `lease_deadline` alone, so after every change `open` must
agree with the full `check`."""

from __future__ import annotations

import pytest

from interlock.control.instance_gate import InstanceGate, quorum_needed
from interlock.control.plane import Attestation, Member, Release
from interlock.domain.reject import RejectCode, render

NOW = 1_000_000_000
DEADLINE = NOW + 2_000_000_000


def att(instance_id: str, build: str = "b1") -> Attestation:
    return Attestation(instance_id, build, "f1", "c", "h", 1)


def member(instance_id: str, build: str = "b1") -> Member:
    return Member(att(instance_id, build), DEADLINE)


def gate(members: tuple[str, ...] = ("gw-1", "gw-2", "gw-3"), quorum: int = 0) -> InstanceGate:
    g = InstanceGate(att("gw-1"), quorum)
    g.joined(DEADLINE, Release("b1", "f1", 1, members), [member(i) for i in members])
    return g


def code(g: InstanceGate, now: int = NOW) -> RejectCode | None:
    r = g.check(now)
    if now < g.lease_deadline:  # the order path's fast test agrees with the full check
        assert g.open is (r is None)
    return None if r is None else r.code


@pytest.mark.parametrize(("expected", "configured", "needed"),
                         [(1, 0, 1), (2, 0, 2), (3, 0, 2), (8, 0, 5), (8, 3, 3)])  # fmt: skip
def test_quorum_is_a_majority_of_expected_unless_configured(
    expected: int, configured: int, needed: int
) -> None:
    assert quorum_needed(expected, configured) == needed


def test_a_gate_never_joined_refuses_as_not_attested() -> None:
    g = InstanceGate(att("gw-1"))
    assert not g.open and code(g) is RejectCode.INSTANCE_NOT_ATTESTED


def test_a_joined_gate_on_the_release_with_quorum_is_open() -> None:
    assert code(gate()) is None and gate().open


def test_losing_members_below_quorum_closes_and_a_rejoin_reopens() -> None:
    g = gate()
    g.member_lost("gw-2")
    assert code(g) is None  # 2 of 3
    g.member_lost("gw-3")
    r = g.check(NOW)
    assert r is not None and r.code is RejectCode.FLEET_NO_QUORUM and not g.open
    assert (render(r.limit), render(r.attempted)) == ("2", "1")
    g.member_joined(member("gw-3"))
    assert code(g) is None


def test_members_on_another_build_do_not_count_towards_quorum() -> None:
    g = gate()
    g.member_joined(member("gw-2", "b0"))
    g.member_joined(member("gw-3", "b0"))
    assert code(g) is RejectCode.FLEET_NO_QUORUM


def test_a_configured_quorum_overrides_the_majority() -> None:
    g = gate(quorum=3)
    assert code(g) is None
    g.member_lost("gw-3")
    assert code(g) is RejectCode.FLEET_NO_QUORUM


def test_a_commit_naming_this_instance_moves_it_to_the_new_epoch() -> None:
    g = gate()
    g.release_changed(Release("b1", "f1", 2, ("gw-1", "gw-2", "gw-3")))
    assert (g.epoch, code(g)) == (2, None)


def test_a_commit_leaving_this_instance_out_fences_it_by_epoch() -> None:
    g = gate()
    g.release_changed(Release("b1", "f1", 2, ("gw-2", "gw-3")))
    assert (g.epoch, code(g)) == (1, RejectCode.STALE_EPOCH)


def test_a_release_of_another_build_refuses_as_not_attested_first() -> None:
    g = gate()
    g.release_changed(Release("b2", "f1", 2, ("gw-1", "gw-2", "gw-3")))
    assert g.epoch == 1 and code(g) is RejectCode.INSTANCE_NOT_ATTESTED


def test_a_lease_past_its_deadline_refuses_with_no_callback_needed() -> None:
    g = gate()
    assert g.open  # the cache says yes; the deadline alone says no
    r = g.check(DEADLINE + 250_000_000)
    assert r is not None and r.code is RejectCode.CONTROL_PLANE_LOST
    assert "lease expired 250 ms ago" in r.reason


def test_the_plane_announcing_this_instance_lost_closes_the_gate() -> None:
    g = gate()
    g.member_lost("gw-1")
    r = g.check(NOW)
    assert not g.open and r is not None and r.code is RejectCode.CONTROL_PLANE_LOST
    assert "gave up its lease" in r.reason


def test_state_names_the_refusal_for_status_tables() -> None:
    assert gate().state(NOW) == "routing"
    assert InstanceGate(att("gw-1")).state(NOW) == "INSTANCE_NOT_ATTESTED"


# -- the flag registry's verdict -------------------------------------------------------------

WHY = "flag manifest of build 'old': reads retired flag 'power_peg' (id 1: Power Peg, retired)"


def test_a_member_whose_manifest_the_registry_refuses_is_not_attested_naming_why() -> None:
    g = InstanceGate(att("gw-1"))
    members = ("gw-1", "gw-2", "gw-3")
    joined = [Member(att("gw-1"), DEADLINE, WHY), member("gw-2"), member("gw-3")]
    g.joined(DEADLINE, Release("b1", "f1", 1, members), joined)
    r = g.check(NOW)
    assert not g.open and r is not None and r.code is RejectCode.INSTANCE_NOT_ATTESTED
    assert r.reason == f"instance gw-1 is not attested: {WHY}"
    g.flags_checked({}, 5)  # the registry changed and accepts it now
    assert code(g) is None


def test_a_build_mismatch_and_a_flag_refusal_are_both_named() -> None:
    g = gate()
    g.flags_checked({"gw-1": WHY}, 1)
    g.release_changed(Release("b2", "f1", 2, ("gw-1", "gw-2", "gw-3")))
    r = g.check(NOW)
    assert r is not None
    assert r.reason == f"instance gw-1 is not attested: build b1 is not the released b2; {WHY}"


def test_members_the_registry_refuses_do_not_count_towards_quorum() -> None:
    g = gate()
    g.flags_checked({"gw-2": WHY, "gw-3": WHY}, 1)
    assert code(g) is RejectCode.FLEET_NO_QUORUM
    g.member_joined(member("gw-3"))  # rejoined on a build the registry accepts
    assert code(g) is None
    g.member_lost("gw-2")
    assert "gw-2" not in g.refused and code(g) is None


def test_a_flag_verdict_older_than_the_one_taken_is_ignored() -> None:
    g = gate()
    g.flags_checked({"gw-1": WHY}, 7)
    g.flags_checked({}, 6)  # a late delivery of an earlier change
    assert code(g) is RejectCode.INSTANCE_NOT_ATTESTED
    g.flags_checked({}, 8)
    assert code(g) is None


def test_an_instance_on_another_config_than_the_release_is_not_attested() -> None:
    g = InstanceGate(att("gw-1"))  # attests config "c"
    members = ("gw-1", "gw-2", "gw-3")
    g.joined(DEADLINE, Release("b1", "f1", 1, members, config_digest="c-released"),
             [member(i) for i in members])  # fmt: skip
    r = g.check(NOW)
    assert not g.open and r is not None and r.code is RejectCode.INSTANCE_NOT_ATTESTED
    assert r.message == (
        "INSTANCE_NOT_ATTESTED: instance gw-1 is not attested: config c is not the released "
        "c-released"
    )
    g.release_changed(Release("b1", "f1", 2, members, config_digest="c"))
    assert code(g) is None  # the release it attests


def test_members_on_another_config_than_the_release_do_not_count_toward_quorum() -> None:
    members = ("gw-1", "gw-2", "gw-3")
    g = InstanceGate(att("gw-1"))
    edited = [Member(Attestation(i, "b1", "f1", "edited", "h", 1), DEADLINE) for i in members[1:]]
    g.joined(DEADLINE, Release("b1", "f1", 1, members, config_digest="c"),
             [member("gw-1"), *edited])  # fmt: skip
    assert code(g) is RejectCode.FLEET_NO_QUORUM  # 1 of 3 on the released config
    g.member_joined(member("gw-2"))
    assert code(g) is None
