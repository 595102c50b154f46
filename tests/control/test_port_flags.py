"""FlagPort, against every backend (plane_backends.BACKENDS).

The plane owns the flag registry: its changes are the registry's (same rules, same
refusals), enabling and retiring run the registry's preflight against the members live at
that instant, and every member's manifest is judged on join and again after each change, so
a member that reads a retired flag, maps a name to another id or misses an enabled flag is
not attested (retiring itself: tests/control/test_plane_flag_retire.py).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from plane_backends import Backend

from interlock.control.deploy import Deployment
from interlock.control.plane import FlagChanged, MemberLost
from interlock.control.ports import ControlPlane
from interlock.errors import DeployError, FlagError
from interlock.flags import FlagDisabled, FlagEnabled, FlagManifest, FlagRegistered, FlagRetired

NEW = FlagManifest("rlp-build", {"rlp": 2})
STALE = FlagManifest("smars-old", {"power_peg": 1, "rlp": 1})
PEG = "Power Peg parent-order slicer"
RLP = "Retail Liquidity Program routing"


def knight(backend: Backend) -> None:
    """Power Peg (id 1) retired; RLP as id 2, off."""
    backend.plane.register_flag("power_peg", 1, PEG, "smars")
    backend.plane.retire_flag("power_peg", "release-eng")
    backend.plane.register_flag("rlp", 2, RLP, "smars")


def refusals(backend: Backend) -> dict[str, str]:
    return {m.instance_id: m.flag_refusal for m in backend.plane.members()}


def changes(backend: Backend) -> list[FlagChanged]:
    """Every FlagChanged of the changes made so far (waits until all were heard)."""
    backend.settle()
    return backend.of(FlagChanged)


# -- the registry's changes, through the plane ---------------------------------------------


def test_each_change_is_announced_once_with_the_ids_on_and_a_version(backend: Backend) -> None:
    knight(backend)
    backend.join("gw-1", manifest=NEW)
    backend.plane.enable_flag("rlp", "ops")
    backend.plane.disable_flag("rlp", "ops")
    backend.plane.disable_flag("rlp", "ops")  # already off: nothing to announce
    backend.plane.register_flag("rlp", 2, RLP, "smars")  # the same identity: nothing either
    seen = changes(backend)
    assert [type(e.change) for e in seen] == [
        FlagRegistered, FlagRetired, FlagRegistered, FlagEnabled, FlagDisabled,
    ]  # fmt: skip
    assert [e.version for e in seen] == [1, 2, 3, 4, 5]
    assert [e.enabled for e in seen] == [frozenset()] * 3 + [frozenset({2}), frozenset()]
    assert seen[3].change == FlagEnabled(seen[3].change.ts, "rlp", 2, "ops", ("gw-1",))


def test_the_snapshot_is_a_copy_of_the_whole_history(backend: Backend) -> None:
    knight(backend)
    snapshot = backend.plane.flag_registry()
    assert [(f.name, f.flag_id, f.retired) for f in snapshot.flags()] == [
        ("power_peg", 1, True), ("rlp", 2, False),
    ]  # fmt: skip
    snapshot.register("sweep", 3, "sweep the book", "ops")  # changes the copy only
    assert backend.plane.flag_registry().get("sweep") is None
    assert len(changes(backend)) == 3


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda p: p.register_flag("power_peg", 1, PEG, "smars"), "tombstone"),
        (lambda p: p.register_flag("rlp_v2", 1, RLP, "smars"), "ids are never reused"),
        (lambda p: p.enable_flag("power_peg", "ops"), "retired flag is never enabled"),
        (lambda p: p.retire_flag("nope", "ops"), "no such flag"),
    ],
    ids=["retired-name", "reused-id", "enable-retired", "unknown"],
)
def test_a_change_the_registry_refuses_raises_and_changes_nothing(
    backend: Backend, change: Callable[[ControlPlane], object], message: str
) -> None:
    knight(backend)
    before = backend.plane.flag_registry().history
    with pytest.raises(FlagError, match=message):
        change(backend.plane)
    assert backend.plane.flag_registry().history == before
    assert len(changes(backend)) == 3


# -- the enable preflight against the live members -------------------------------------------


def test_enable_with_no_live_member_is_refused(backend: Backend) -> None:
    knight(backend)
    with pytest.raises(FlagError, match="no live member manifests"):
        backend.plane.enable_flag("rlp", "ops")


def test_enable_is_refused_naming_a_live_member_that_maps_the_name_to_another_id(
    backend: Backend,
) -> None:
    knight(backend)
    backend.join("gw-1", manifest=NEW)
    backend.join("gw-8", manifest=STALE)  # not attested, but live: it counts
    with pytest.raises(FlagError) as err:
        backend.plane.enable_flag("rlp", "ops")
    assert str(err.value) == (
        "cannot enable 'rlp' (id 2: Retail Liquidity Program routing): gw-8 maps 'rlp' to "
        "id 1 (power_peg)"
    )
    assert backend.plane.flag_registry().enabled_ids() == frozenset()


def test_a_member_with_no_manifest_declares_nothing_so_enable_is_refused(
    backend: Backend,
) -> None:
    knight(backend)
    backend.join("gw-1", manifest=NEW)
    backend.join("gw-2")  # attests the label "f1" and no manifest
    with pytest.raises(FlagError, match="gw-2 does not declare 'rlp'"):
        backend.plane.enable_flag("rlp", "ops")


def test_a_member_whose_lease_expired_no_longer_holds_enable_back(backend: Backend) -> None:
    knight(backend)
    backend.join("gw-1", manifest=NEW)
    backend.join("gw-8", manifest=STALE)
    backend.advance_ms(backend.ttl_ms // 2)
    backend.plane.renew("gw-1")
    backend.advance_ms(backend.ttl_ms // 2)  # gw-8 at its deadline: gone
    backend.eventually(lambda: backend.ids() == ["gw-1"], what="gw-8's lease gone")
    backend.plane.enable_flag("rlp", "ops")
    last = changes(backend)[-1]
    lost = backend.events.index(MemberLost("gw-8"))
    enabled = backend.events.index(last)
    assert lost < enabled  # announced lost before the flag it no longer holds back
    change = changes(backend)[-1].change
    assert isinstance(change, FlagEnabled) and change.members == ("gw-1",)


# -- the verdict on each member's manifest ---------------------------------------------------


def test_a_joining_member_is_judged_by_the_registry(backend: Backend) -> None:
    knight(backend)
    backend.join("gw-1", manifest=NEW)
    backend.join("gw-2")
    backend.join("gw-8", manifest=STALE)
    backend.join("gw-9", "b1", "not-its-digest", NEW)
    verdicts = refusals(backend)
    assert verdicts["gw-1"] == verdicts["gw-2"] == ""
    assert verdicts["gw-8"] == (
        "flag manifest of build 'smars-old': reads retired flag 'power_peg' (id 1: Power Peg "
        "parent-order slicer, retired); maps 'rlp' to id 1 (power_peg); the registry has "
        "'rlp' as id 2"
    )
    assert verdicts["gw-9"].startswith(
        f"flag manifest digest {NEW.digest()[:12]} is not the flag digest it attests"
    )


def test_retiring_a_flag_a_live_member_reads_is_refused_and_its_member_stays_accepted(
    backend: Backend,
) -> None:
    backend.plane.register_flag("power_peg", 1, PEG, "smars")
    old = FlagManifest("smars-old", {"power_peg": 1})
    backend.join("gw-1", manifest=old)
    backend.join("gw-2")
    with pytest.raises(FlagError, match=r"1 live member\(s\) still read it: gw-1 reads"):
        backend.plane.retire_flag("power_peg", "release-eng")
    assert refusals(backend) == {"gw-1": "", "gw-2": ""}  # nobody stranded
    assert [type(e.change) for e in changes(backend)] == [FlagRegistered]  # nothing announced


def test_enabling_a_flag_refuses_a_later_member_that_does_not_declare_it(
    backend: Backend,
) -> None:
    knight(backend)
    backend.join("gw-1", manifest=NEW)
    backend.plane.enable_flag("rlp", "ops")
    backend.join("gw-2")  # joins after: its build knows nothing of RLP
    assert "does not declare enabled flag 'rlp'" in refusals(backend)["gw-2"]
    backend.plane.disable_flag("rlp", "ops")  # judged again: nothing it lacks is on now
    assert refusals(backend)["gw-2"] == "" and changes(backend)[-1].refused == ()


def test_registering_the_flag_a_member_read_as_unknown_accepts_it(backend: Backend) -> None:
    backend.join("gw-1", manifest=NEW)
    assert "reads unknown flag 'rlp' as id 2" in refusals(backend)["gw-1"]
    backend.plane.register_flag("rlp", 2, RLP, "smars")
    assert refusals(backend)["gw-1"] == ""


def test_a_renewed_lease_keeps_the_verdict(backend: Backend) -> None:
    knight(backend)
    backend.join("gw-8", manifest=STALE)
    backend.plane.renew("gw-8")
    assert "reads retired flag" in refusals(backend)["gw-8"]


# -- deploys ---------------------------------------------------------------------------------


def test_commit_is_refused_while_an_expected_member_s_manifest_is_refused(
    backend: Backend,
) -> None:
    backend.plane.register_flag("power_peg", 1, PEG, "smars")
    backend.plane.retire_flag("power_peg", "release-eng")
    bad = FlagManifest("b2", {"power_peg": 1})  # a build that slipped past the release gate
    d = Deployment(backend.plane, who="ops", clock=backend.now)
    d.propose("b2", bad.digest(), ("gw-1",))
    backend.join("gw-1", "b2", manifest=bad)
    assert [r.ready for r in d.readiness()] == [False]
    with pytest.raises(DeployError) as err:
        d.commit()
    assert err.value.members == ("gw-1",)
    assert err.value.problems[0].startswith(
        f"gw-1: attests build b2, flags {bad.digest()[:12]}, but the flag registry refuses "
        "it: flag manifest of build 'b2': reads retired flag 'power_peg'"
    )
