"""Deploy transactions on the control plane: propose (with the release gate), commit only when
every expected member attests, abort, rollback; refusals name every member at fault."""

from __future__ import annotations

from collections.abc import Iterable

import pytest
from plane_backends import Backend

from interlock.control.deploy import Deployment, Readiness
from interlock.control.plane import Proposal, Release
from interlock.errors import ControlPlaneError, DeployError

FLEET = ("gw-1", "gw-2", "gw-3")


def deploy(backend: Backend) -> Deployment:
    return Deployment(backend.plane, who="ops", clock=backend.now)


def test_commit_when_every_expected_member_attests_flips_release_and_epoch(
    backend: Backend,
) -> None:
    d = deploy(backend)
    base = backend.plane.release().epoch
    d.propose("b2", "f2", FLEET)
    for i in FLEET:
        backend.join(i, "b2", "f2")
    assert d.commit() == Release("b2", "f2", base + 1, FLEET)
    assert backend.plane.proposal() is None


def test_commit_refused_names_each_missing_or_mismatched_member_and_changes_nothing(
    backend: Backend,
) -> None:
    d = deploy(backend)
    before = backend.plane.release()
    p = d.propose("b2", "f2", FLEET)
    backend.join("gw-1", "b2", "f2")
    backend.join("gw-2", "b1", "f2")  # kept the old build: Knight's eighth server
    with pytest.raises(DeployError) as err:  # gw-3 never came back at all
        d.commit()
    e = err.value
    assert (e.code, e.step, e.members) == ("DEPLOY_REFUSED", "commit", ("gw-2", "gw-3"))
    assert isinstance(e, ControlPlaneError)
    assert e.problems == (
        "gw-2: attests build b1, flags f2, not the proposed build b2, flags f2",
        "gw-3: missing (no fresh lease)",
    )
    assert str(e).startswith("commit refused, nothing changed: gw-2: attests build b1")
    assert backend.plane.release() == before and backend.plane.proposal() == p


def test_readiness_shows_each_expected_member_against_the_proposal(backend: Backend) -> None:
    d = deploy(backend)
    assert d.readiness() == []
    d.propose("b2", "f2", FLEET)
    backend.join("gw-1", "b2", "f2")
    backend.join("gw-2", "b1", "f1")
    assert d.readiness() == [
        Readiness("gw-1", "build b2, flags f2", True),
        Readiness("gw-2", "build b1, flags f1", False),
        Readiness("gw-3", None, False),
    ]


@pytest.mark.parametrize(
    ("build", "members", "problem"),
    [
        ("", FLEET, "names no build digest"),
        ("b2", (), "expects no members"),
        ("b2", ("gw-1", "gw-1"), "expected members repeat"),
    ],
)
def test_propose_refuses_a_malformed_proposal(
    backend: Backend, build: str, members: tuple[str, ...], problem: str
) -> None:
    with pytest.raises(DeployError, match=problem):
        deploy(backend).propose(build, "f2", members)
    assert backend.plane.proposal() is None


def test_propose_while_another_is_pending_is_refused(backend: Backend) -> None:
    d = deploy(backend)
    first = d.propose("b2", "f2", FLEET)
    with pytest.raises(DeployError, match="pending: commit or abort it first"):
        d.propose("b3", "f3", FLEET)
    assert backend.plane.proposal() == first


def test_release_gate_findings_refuse_the_proposal_and_are_listed(backend: Backend) -> None:
    seen: list[Proposal] = []

    def linter(p: Proposal) -> Iterable[object]:
        seen.append(p)
        return ["rlp.py:12 FLAG_RETIRED: reads retired flag 'power_peg'", "x.py:3 FLAG_UNKNOWN"]

    with pytest.raises(DeployError) as err:
        deploy(backend).propose("b2", "f2", FLEET, preflight=linter)
    assert err.value.problems == (
        "release gate: rlp.py:12 FLAG_RETIRED: reads retired flag 'power_peg'",
        "release gate: x.py:3 FLAG_UNKNOWN",
    )
    assert [p.build_digest for p in seen] == ["b2"] and backend.plane.proposal() is None


def test_a_clean_release_gate_lets_the_proposal_through(backend: Backend) -> None:
    p = deploy(backend).propose("b2", "f2", FLEET, preflight=lambda _: [])
    assert backend.plane.proposal() == p


def test_abort_keeps_the_release_and_a_later_deploy_may_be_proposed(backend: Backend) -> None:
    d = deploy(backend)
    before = backend.plane.release()
    p = d.propose("b2", "f2", FLEET)
    assert d.abort("gw-3 kept the old build") == p
    assert backend.plane.release() == before and backend.plane.proposal() is None
    with pytest.raises(DeployError, match="no deploy is pending"):
        d.abort()
    d.propose("b2", "f2", FLEET[:2])  # without the bad one


def test_commit_without_a_proposal_is_refused(backend: Backend) -> None:
    with pytest.raises(DeployError, match="no deploy is pending"):
        deploy(backend).commit()


def test_commit_after_an_operator_moved_the_release_is_refused(backend: Backend) -> None:
    d = deploy(backend)
    p = d.propose("b2", "f2", ("gw-1",))
    backend.join("gw-1", "b2", "f2")
    backend.plane.set_release(Release("b9", "", p.base_epoch + 1), "ops")
    with pytest.raises(DeployError, match="release moved from epoch"):
        d.commit()


def test_rollback_is_a_deploy_of_the_previous_build_at_a_new_epoch(backend: Backend) -> None:
    d = deploy(backend)
    d.propose("b2", "f2", FLEET)
    for i in FLEET:
        backend.join(i, "b2", "f2")
    new = d.commit()
    d.propose("b1", "f1", FLEET)
    for i in FLEET:
        backend.join(i, "b1", "f1")
    back = d.commit()
    assert (back.build_digest, back.flag_digest, back.epoch) == ("b1", "f1", new.epoch + 1)


def test_propose_keeps_the_released_config_unless_given_another(backend: Backend) -> None:
    d = deploy(backend)
    backend.plane.set_release(Release("b1", "f1", backend.plane.release().epoch + 1,
                                      config_digest="cfg"))  # fmt: skip
    assert d.propose("b2", "f2", FLEET).config_digest == "cfg"
    d.abort()
    assert d.propose("b2", "f2", FLEET, config_digest="").config_digest == ""  # approves any
    d.abort()
    assert d.propose("b2", "f2", FLEET, config_digest="cfg-2").config_digest == "cfg-2"


def test_commit_refused_names_a_member_attesting_another_config(backend: Backend) -> None:
    d = deploy(backend)
    d.propose("b2", "f2", FLEET, config_digest="cfg")
    backend.join("gw-1", "b2", "f2", config="cfg")
    backend.join("gw-2", "b2", "f2", config="edited")  # right build, edited limits
    backend.join("gw-3", "b1", "f2", config="edited")  # wrong on both counts
    assert [r.ready for r in d.readiness()] == [True, False, False]
    with pytest.raises(DeployError) as err:
        d.commit()
    assert err.value.members == ("gw-2", "gw-3")
    assert err.value.problems == (
        "gw-2: attests build b2, flags f2, but config edited, not the proposed cfg",
        "gw-3: attests build b1, flags f2, not the proposed build b2, flags f2, and config "
        "edited, not the proposed cfg",
    )
