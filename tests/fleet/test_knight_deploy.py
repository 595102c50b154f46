"""Knight's deploy on eight in-process routers sharing one embedded control plane.

Seven restart on the new build, one keeps the old. The commit is refused naming it and
nothing changes; the stale router routes nothing, before the commit and after the deploy
goes ahead without it; a straggler on the right build left out of the commit is fenced by
the epoch, and one on the right build with edited limits is fenced by the released config;
a rollback is one more deploy.
"""

from __future__ import annotations

import pytest
from fleet_kit import NEW, NEW_FLAGS, OLD, OLD_FLAGS, budget_config, fleet, submit

from interlock.control.deploy import Deployment
from interlock.control.plane import Release
from interlock.domain.events import DeployAborted, DeployCommitted, DeployProposed
from interlock.domain.reject import RejectCode
from interlock.errors import DeployError
from interlock.render_text import EventSummarizer
from interlock.sim.fleet import InProcessFleet

FENCED = {RejectCode.INSTANCE_NOT_ATTESTED, RejectCode.STALE_EPOCH}
SEVEN = [f"gw-{i}" for i in range(1, 8)]


def flood(f: InProcessFleet, instance_id: str, n: int, start: int = 0) -> set[RejectCode | None]:
    """`n` distinct orders to one instance; the set of codes they got (None: accepted)."""
    return {submit(f, instance_id, start + i).code for i in range(n)}


def test_commit_with_one_router_on_the_old_build_is_refused_naming_it() -> None:
    f, clock = fleet()
    deploy = Deployment(f.plane, who="ops", clock=clock)
    deploy.propose(NEW, NEW_FLAGS, f.ids)
    for i in SEVEN:
        f.restart(i, NEW, NEW_FLAGS)
    with pytest.raises(DeployError) as err:
        deploy.commit()
    assert err.value.members == ("gw-8",)
    assert err.value.problems == (
        f"gw-8: attests build {OLD[:12]}, flags {OLD_FLAGS[:12]}, not the proposed build "
        f"{NEW[:12]}, flags {NEW_FLAGS[:12]}",
    )
    nothing_changed = Release(OLD, OLD_FLAGS, 1, tuple(f.ids), config_digest=f.config_digest)
    assert f.plane.release() == nothing_changed


def test_the_stale_router_routes_nothing_before_or_after_the_deploy() -> None:
    f, clock = fleet()
    deploy = Deployment(f.plane, who="ops", clock=clock)
    deploy.propose(NEW, NEW_FLAGS, f.ids)
    for i in SEVEN:
        f.restart(i, NEW, NEW_FLAGS)
    with pytest.raises(DeployError):
        deploy.commit()
    # mid-deploy: the old release has lost its quorum, the new one is not released yet
    assert flood(f, "gw-8", 500) == {RejectCode.FLEET_NO_QUORUM}
    assert flood(f, "gw-1", 20) == {RejectCode.INSTANCE_NOT_ATTESTED}
    deploy.abort("gw-8 kept the old build")
    deploy.propose(NEW, NEW_FLAGS, SEVEN)  # go ahead without the bad server
    release = deploy.commit()
    assert (release.build_digest, release.epoch, release.members) == (NEW, 2, tuple(SEVEN))
    codes = flood(f, "gw-8", 5_000, start=500)
    assert codes <= FENCED and codes == {RejectCode.INSTANCE_NOT_ATTESTED}
    assert f.sent("gw-8") == 0  # the venue received nothing from it, ever
    for n, i in enumerate(SEVEN):
        assert submit(f, i, 10_000 + n).accepted
        assert f.sent(i) == 1
    assert f.status().routing == 7


def test_a_straggler_on_the_new_build_left_out_of_the_commit_is_fenced_by_the_epoch() -> None:
    f, clock = fleet()
    deploy = Deployment(f.plane, who="ops", clock=clock)
    deploy.propose(NEW, NEW_FLAGS, SEVEN)
    for i in f.ids:
        f.restart(i, NEW, NEW_FLAGS)  # gw-8 too, but the deploy does not expect it
    deploy.commit()
    assert flood(f, "gw-8", 300) == {RejectCode.STALE_EPOCH}
    d = submit(f, "gw-8", 999)
    assert d.message == "STALE_EPOCH: instance gw-8 runs epoch 1, fleet is at epoch 2"
    assert f.sent("gw-8") == 0
    f.restart("gw-8", NEW, NEW_FLAGS)  # a restart rejoins it on the release
    assert submit(f, "gw-8", 1_000).accepted


def test_a_straggler_on_the_new_build_with_edited_limits_routes_nothing() -> None:
    f, clock = fleet()
    deploy = Deployment(f.plane, who="ops", clock=clock)
    deploy.propose(NEW, NEW_FLAGS, f.ids, config_digest=f.config_digest)
    for i in SEVEN:
        f.restart(i, NEW, NEW_FLAGS)
    edited = budget_config(limit=1_000_000, on=False)  # someone raised its position limit
    f.restart("gw-8", NEW, NEW_FLAGS, config=edited)
    assert edited.fleet_digest() != f.config_digest
    with pytest.raises(DeployError) as err:
        deploy.commit()
    assert err.value.members == ("gw-8",)
    assert err.value.problems == (
        f"gw-8: attests build {NEW[:12]}, flags {NEW_FLAGS[:12]}, but config "
        f"{edited.fleet_digest()[:12]}, not the proposed {f.config_digest[:12]}",
    )
    deploy.abort("gw-8 runs edited limits")
    deploy.propose(NEW, NEW_FLAGS, SEVEN)  # None: the released config, unchanged
    release = deploy.commit()
    assert release.config_digest == f.config_digest
    codes = flood(f, "gw-8", 200)
    assert codes == {RejectCode.INSTANCE_NOT_ATTESTED}
    d = submit(f, "gw-8", 999)
    assert f"config {edited.fleet_digest()[:12]} is not the released" in d.message
    assert f.sent("gw-8") == 0
    assert all(submit(f, i, 1_000 + n).accepted for n, i in enumerate(SEVEN))


def test_a_rollback_is_a_deploy_of_the_old_build_at_a_new_epoch() -> None:
    f, clock = fleet()
    deploy = Deployment(f.plane, who="ops", clock=clock)
    for build, flags, epoch in ((NEW, NEW_FLAGS, 2), (OLD, OLD_FLAGS, 3)):
        deploy.propose(build, flags, f.ids)
        for i in f.ids:
            f.restart(i, build, flags)
        released = Release(build, flags, epoch, tuple(f.ids), config_digest=f.config_digest)
        assert deploy.commit() == released
        assert f.status().routing == 8
        assert all(submit(f, i, epoch * 100 + n).accepted for n, i in enumerate(f.ids))


def test_every_router_journals_the_deploy_events_it_observes() -> None:
    f, clock = fleet(2)
    deploy = Deployment(f.plane, who="ops", clock=clock)
    deploy.propose(NEW, NEW_FLAGS, f.ids)
    deploy.abort("rehearsal")
    deploy.propose(NEW, NEW_FLAGS, f.ids)
    f.restart("gw-1", NEW, NEW_FLAGS)
    f.restart("gw-2", NEW, NEW_FLAGS)
    deploy.commit()
    journal = f.instances["gw-2"].journal
    journal.flush()
    events = [e for _, e in journal.read()]
    kinds = [type(e) for e in events if isinstance(e, DeployProposed | DeployCommitted
                                                       | DeployAborted)]  # fmt: skip
    assert kinds == [DeployProposed, DeployAborted, DeployProposed, DeployCommitted]
    committed = events[-1]
    assert isinstance(committed, DeployCommitted)
    assert (committed.build_digest, committed.epoch, committed.who) == (NEW, 2, "ops")
    summary = EventSummarizer()
    lines = [summary(e) for e in events if isinstance(e, DeployProposed | DeployCommitted)]
    assert lines[-1] == f"DEPLOY committed build {NEW[:12]}, flags {NEW_FLAGS[:12]} at epoch 2 " \
        "by ops (gw-1, gw-2)"  # fmt: skip
