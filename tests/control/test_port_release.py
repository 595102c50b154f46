"""ReleasePort, against every backend: a release whose epoch only rises, one pending
proposal at a time, and a commit that is all-or-nothing: it releases the proposal at the
next epoch only when every expected member is live and attests its build, flags and
config, and two operators racing (to propose, to commit) cannot both win.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from dataclasses import replace

import pytest
from plane_backends import Backend

from interlock.control.plane import (
    CommitResult,
    Proposal,
    ProposalAborted,
    ProposalPut,
    Release,
    ReleaseChanged,
)
from interlock.domain.limit_events import FleetLimitChange, LimitItem
from interlock.errors import ControlPlaneError

RACE_ROUNDS = 10
JOIN_S = 10.0


def proposal(
    backend: Backend, members: tuple[str, ...], build: str = "b2", config: str = ""
) -> Proposal:
    epoch = backend.plane.release().epoch
    return Proposal(build, "f2", members, epoch, "ops", backend.now(), config_digest=config)


def race(*calls: Callable[[], object]) -> list[object]:
    """Run `calls` at once, one thread each (started together at a barrier); their results."""
    start = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)
    failures: list[BaseException] = []

    def run(i: int) -> None:
        try:
            start.wait(timeout=JOIN_S)
            results[i] = calls[i]()
        except BaseException as exc:  # reported below, in the test's thread
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=JOIN_S)
    assert not any(t.is_alive() for t in threads), "a racing call did not return"
    assert not failures, failures
    return results


def test_set_release_moves_only_to_a_higher_epoch_and_announces_who(backend: Backend) -> None:
    epoch = backend.plane.release().epoch
    with pytest.raises(ControlPlaneError, match="not above"):
        backend.plane.set_release(Release("b2", "f2", epoch), "ops")
    new = Release("b2", "f2", epoch + 1, config_digest="cfg")
    backend.plane.set_release(new, "ops")
    assert backend.plane.release() == new
    assert backend.events_of(ReleaseChanged) == [ReleaseChanged(new, "ops")]


def test_only_one_proposal_may_be_pending(backend: Backend) -> None:
    p = proposal(backend, ("gw-1",))
    assert backend.plane.put_proposal(p) is True
    assert backend.plane.put_proposal(proposal(backend, ("gw-2",))) is False
    assert backend.plane.proposal() == p
    backend.settle()
    assert backend.of(ProposalPut) == [ProposalPut(p)]


def test_a_proposal_carrying_a_limit_change_is_stored_and_announced_whole(
    backend: Backend,
) -> None:
    change = FleetLimitChange("LC-1@gw-1", "risk-a", (LimitItem("firm.max_gross_notional",
                              "5000000", "4000000"),), "tighten", True, 99, "risk-b")  # fmt: skip
    p = replace(proposal(backend, ("gw-1",), config="c2"), limits=change)
    assert backend.plane.put_proposal(p) is True
    assert backend.plane.proposal() == p
    backend.settle()
    assert backend.of(ProposalPut) == [ProposalPut(p)]


def test_two_operators_proposing_at_once_exactly_one_is_stored(backend: Backend) -> None:
    for n in range(RACE_ROUNDS):
        mine = proposal(backend, ("gw-1",), f"b{n}-a")
        theirs = proposal(backend, ("gw-1",), f"b{n}-b")
        won = race(*(functools.partial(backend.plane.put_proposal, p) for p in (mine, theirs)))
        assert sorted(won, key=str) == [False, True]
        assert backend.plane.proposal() == (mine if won[0] else theirs)
        backend.plane.abort_proposal("ops", "next round")
    backend.settle()
    assert len(backend.of(ProposalPut)) == RACE_ROUNDS


def test_abort_drops_the_proposal_and_keeps_the_release(backend: Backend) -> None:
    before = backend.plane.release()
    assert backend.plane.abort_proposal("ops", "nothing to abort") is None
    p = proposal(backend, ("gw-1",))
    backend.plane.put_proposal(p)
    assert backend.plane.abort_proposal("ops", "changed my mind") == p
    assert backend.plane.proposal() is None and backend.plane.release() == before
    backend.settle()
    assert backend.of(ProposalAborted) == [ProposalAborted(p, "ops", "changed my mind")]


def test_commit_without_a_proposal_changes_nothing(backend: Backend) -> None:
    before = backend.plane.release()
    result = backend.plane.commit_proposal("ops")
    assert (result.committed, result.proposal, result.release) == (None, None, before)
    assert backend.plane.release() == before


def test_commit_when_every_member_attests_releases_at_the_next_epoch(backend: Backend) -> None:
    base = backend.plane.release().epoch
    backend.plane.put_proposal(proposal(backend, ("gw-1", "gw-2"), config="cfg"))
    backend.join("gw-1", "b2", "f2")
    backend.join("gw-2", "b2", "f2")
    result = backend.plane.commit_proposal("ops")
    assert result.committed == Release("b2", "f2", base + 1, ("gw-1", "gw-2"), config_digest="cfg")
    assert backend.plane.release() == result.committed and backend.plane.proposal() is None
    assert backend.events_of(ReleaseChanged) == [ReleaseChanged(result.committed, "ops")]


def test_a_proposal_with_no_config_digest_approves_any_config(backend: Backend) -> None:
    backend.plane.put_proposal(proposal(backend, ("gw-1", "gw-2")))
    backend.join("gw-1", "b2", "f2", config="cfg-a")
    backend.join("gw-2", "b2", "f2", config="cfg-b")
    committed = backend.plane.commit_proposal("ops").committed
    assert committed is not None and committed.config_digest == ""


@pytest.mark.parametrize(
    "gw2",
    ["absent", "old build", "old flags", "other config", "lease expired"],
)
def test_commit_with_a_member_not_attesting_changes_nothing(backend: Backend, gw2: str) -> None:
    before = backend.plane.release()
    p = proposal(backend, ("gw-1", "gw-2"), config="cfg")
    backend.plane.put_proposal(p)
    backend.join("gw-1", "b2", "f2")
    if gw2 == "old build":
        backend.join("gw-2", "b1", "f2")
    elif gw2 == "old flags":
        backend.join("gw-2", "b2", "f1")
    elif gw2 == "other config":
        backend.join("gw-2", "b2", "f2", config="edited-limits")
    elif gw2 == "lease expired":
        backend.join("gw-2", "b2", "f2")
        backend.advance_ms(backend.ttl_ms // 2)
        backend.plane.renew("gw-1")
        backend.advance_ms(backend.ttl_ms // 2)
        backend.eventually(lambda: backend.ids() == ["gw-1"], what="gw-2's lease gone")
    result = backend.plane.commit_proposal("ops")
    assert result.committed is None and result.proposal == p
    assert backend.plane.release() == before and backend.plane.proposal() == p
    assert "gw-1" in {m.instance_id for m in result.members}
    backend.settle()
    assert backend.of(ReleaseChanged) == []


def test_commit_after_the_release_moved_under_the_proposal_is_refused(backend: Backend) -> None:
    p = proposal(backend, ("gw-1",))
    backend.plane.put_proposal(p)
    backend.join("gw-1", "b2", "f2")
    moved = Release("b9", "f9", p.base_epoch + 1)
    backend.plane.set_release(moved)
    result = backend.plane.commit_proposal("ops")
    assert result.committed is None and backend.plane.release() == moved


def test_two_operators_committing_at_once_release_once_at_the_next_epoch(
    backend: Backend,
) -> None:
    backend.join("gw-1", "b2", "f2")
    for _ in range(RACE_ROUNDS):
        backend.plane.renew("gw-1")  # a real lease runs out while the rounds go on
        base = backend.plane.release().epoch
        assert backend.plane.put_proposal(proposal(backend, ("gw-1",)))
        results = race(lambda: backend.plane.commit_proposal("ops-a"),
                       lambda: backend.plane.commit_proposal("ops-b"))  # fmt: skip
        made = [r.committed for r in results if isinstance(r, CommitResult) and r.committed]
        assert len(made) == 1 and made[0].epoch == base + 1
        assert backend.plane.release() == made[0] and backend.plane.proposal() is None
    assert backend.events_of(ReleaseChanged, RACE_ROUNDS)
    backend.settle()
    assert len(backend.of(ReleaseChanged)) == RACE_ROUNDS
