"""MembershipPort, against every backend: a member is bound to a lease that lasts as long
as it is renewed, expires by itself when it is not (announced once, and never renewed
after), and leaves when told; registering again replaces the attestation.
"""

from __future__ import annotations

import pytest
from plane_backends import Backend, attestation

from interlock.control.plane import MemberJoined, MemberLost
from interlock.errors import ControlPlaneError


def test_register_returns_the_deadline_and_announces_the_member(backend: Backend) -> None:
    before = backend.now()
    deadline = backend.join("gw-1")
    assert before + backend.ttl_ns <= deadline <= backend.now() + backend.ttl_ns
    [member] = backend.plane.members()
    assert (member.attestation, member.lease_expires_ns) == (attestation("gw-1"), deadline)
    assert backend.events_of(MemberJoined) == [MemberJoined(member)]


def test_register_with_a_non_positive_ttl_is_refused(backend: Backend) -> None:
    with pytest.raises(ControlPlaneError, match="positive"):
        backend.plane.register(attestation("gw-1"), 0)
    assert backend.plane.members() == []


def test_a_renewed_lease_outlives_its_first_ttl(backend: Backend) -> None:
    first = backend.join("gw-1")
    backend.advance_ms(backend.ttl_ms // 2)
    before = backend.now()
    renewed = backend.plane.renew("gw-1")
    assert before + backend.ttl_ns <= renewed <= backend.now() + backend.ttl_ns
    assert renewed > first
    backend.advance_ms(backend.ttl_ms * 3 // 4)  # past the first deadline, inside the new one
    assert backend.now() > first
    [member] = backend.plane.members()
    assert (member.instance_id, member.lease_expires_ns) == ("gw-1", renewed)
    backend.settle()
    assert backend.of(MemberLost) == []


def test_a_lease_not_renewed_expires_is_announced_once_and_cannot_be_renewed(
    backend: Backend,
) -> None:
    backend.join("gw-1")
    backend.join("gw-2")
    backend.advance_ms(backend.ttl_ms // 2)
    backend.plane.renew("gw-2")
    backend.advance_ms(backend.ttl_ms // 2)  # gw-1 at its deadline: gone (embedded: at once)
    backend.eventually(lambda: backend.ids() == ["gw-2"], what="only gw-1's lease expired")
    with pytest.raises(ControlPlaneError, match="gw-1"):
        backend.plane.renew("gw-1")
    assert backend.events_of(MemberLost) == [MemberLost("gw-1")]
    backend.plane.members()  # asked again: nothing more to announce
    backend.settle()
    assert backend.of(MemberLost) == [MemberLost("gw-1")]


def test_renewing_a_member_that_never_joined_is_refused(backend: Backend) -> None:
    with pytest.raises(ControlPlaneError, match="gw-9"):
        backend.plane.renew("gw-9")


def test_leave_drops_the_member_and_announces_it_once(backend: Backend) -> None:
    backend.join("gw-1")
    backend.plane.leave("gw-1")
    backend.plane.leave("gw-1")  # twice: nothing more to announce
    backend.plane.leave("gw-9")  # never joined: nothing either
    assert backend.plane.members() == []
    with pytest.raises(ControlPlaneError, match="gw-1"):
        backend.plane.renew("gw-1")
    backend.settle()
    assert backend.of(MemberLost) == [MemberLost("gw-1")]


def test_register_again_replaces_the_attestation_and_announces_it(backend: Backend) -> None:
    backend.join("gw-1", build="old")
    backend.join("gw-1", build="new")
    assert [m.attestation.build_digest for m in backend.plane.members()] == ["new"]
    joined = backend.events_of(MemberJoined, 2)
    assert [e.member.attestation.build_digest for e in joined] == ["old", "new"]
