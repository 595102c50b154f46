"""Retiring a flag on the plane (issue 11), run against every backend (conftest.BACKENDS).

A retire is refused while any member whose lease is fresh reads the flag, by its name or
by its id, attested or not: the refusal names every reader and nothing changes (no
tombstone, no FlagChanged, no verdict). Once the readers have left or lost their leases the
retire goes through, and a build that joins later reading the tombstone is refused.
"""

from __future__ import annotations

import pytest
from plane_backends import Backend

from interlock.control.plane import FlagChanged
from interlock.errors import FlagError
from interlock.flags import FlagManifest, FlagRetired

OLD = FlagManifest("smars-old", {"power_peg": 1})
NEW = FlagManifest("rlp-build", {"rlp": 2})


def fleet_of(backend: Backend, **manifests: FlagManifest) -> None:
    """Power Peg (id 1) and RLP (id 2), both active and off; members join as given."""
    backend.plane.register_flag("power_peg", 1, "Power Peg parent-order slicer", "smars")
    backend.plane.register_flag("rlp", 2, "Retail Liquidity Program routing", "smars")
    for instance_id, manifest in manifests.items():
        backend.join(instance_id.replace("_", "-"), manifest=manifest)


def retire_refused(backend: Backend) -> str:
    """Attempt the retire; assert it changed nothing at all; return the refusal."""
    history = backend.plane.flag_registry().history
    verdicts = {m.instance_id: m.flag_refusal for m in backend.plane.members()}
    backend.settle()
    announced = len(backend.of(FlagChanged))
    with pytest.raises(FlagError) as refused:
        backend.plane.retire_flag("power_peg", "release-eng")
    backend.settle()  # anything the retire announced has been heard by now
    assert backend.plane.flag_registry().history == history
    assert len(backend.of(FlagChanged)) == announced
    assert {m.instance_id: m.flag_refusal for m in backend.plane.members()} == verdicts
    flag = backend.plane.flag_registry().get("power_peg")
    assert flag is not None and not flag.retired
    return str(refused.value)


def test_retire_while_live_members_read_it_is_refused_naming_every_reader(
    backend: Backend,
) -> None:
    fleet_of(backend, gw_1=OLD, gw_2=OLD, gw_3=OLD, gw_4=NEW)
    assert retire_refused(backend) == (
        "cannot retire 'power_peg' (id 1: Power Peg parent-order slicer): 3 live member(s) "
        "still read it: gw-1, gw-2, gw-3 read 'power_peg' as id 1; retire it once no live "
        "member's build reads it"
    )


def test_retire_is_allowed_once_the_readers_have_left_or_lost_their_lease(
    backend: Backend,
) -> None:
    fleet_of(backend, gw_1=OLD, gw_2=OLD, gw_3=NEW)
    backend.plane.leave("gw-1")
    message = retire_refused(backend)
    assert "1 live member(s) still read it: gw-2 reads" in message and "gw-1" not in message
    backend.advance_ms(backend.ttl_ms // 2)
    backend.plane.renew("gw-3")
    backend.advance_ms(backend.ttl_ms // 2 + 1)  # gw-2's lease has run out; gw-3's has not
    backend.eventually(lambda: backend.ids() == ["gw-3"], what="gw-2's lease expired")
    flag = backend.plane.retire_flag("power_peg", "release-eng")
    assert flag.retired and flag.retired_by == "release-eng"
    backend.eventually(lambda: isinstance(backend.of(FlagChanged)[-1].change, FlagRetired))
    [changed] = backend.of(FlagChanged)[-1:]
    assert isinstance(changed.change, FlagRetired) and changed.refused == ()
    assert [m.instance_id for m in backend.plane.members()] == ["gw-3"]


def test_a_member_that_joins_after_the_retire_reading_the_flag_is_refused(
    backend: Backend,
) -> None:
    fleet_of(backend, gw_1=NEW)
    backend.plane.retire_flag("power_peg", "release-eng")
    backend.join("gw-8", manifest=OLD)
    verdicts = {m.instance_id: m.flag_refusal for m in backend.plane.members()}
    assert verdicts["gw-1"] == ""
    assert verdicts["gw-8"] == (
        "flag manifest of build 'smars-old': reads retired flag 'power_peg' (id 1: Power Peg "
        "parent-order slicer, retired)"
    )


def test_a_reader_the_plane_already_refuses_still_blocks_the_retire(backend: Backend) -> None:
    stale = FlagManifest("smars-stale", {"power_peg": 1, "rlp": 1})  # 'rlp' on Power Peg's id
    fleet_of(backend, gw_1=NEW, gw_8=stale)
    backend.join("gw-9", flags="typed-by-hand", manifest=OLD)  # attests another digest
    verdicts = {m.instance_id: m.flag_refusal for m in backend.plane.members()}
    assert verdicts["gw-1"] == "" and verdicts["gw-8"] and verdicts["gw-9"]
    assert retire_refused(backend).startswith(
        "cannot retire 'power_peg' (id 1: Power Peg parent-order slicer): 2 live member(s) "
        "still read it: gw-8 reads 'power_peg' as id 1, 'rlp' as id 1; gw-9 reads 'power_peg' "
        "as id 1;"
    )


def test_a_member_reading_the_flag_s_id_or_name_under_another_meaning_blocks_the_retire(
    backend: Backend,
) -> None:
    by_id = FlagManifest("renamed", {"peg_v0": 1})  # id 1, under a name of its own
    by_name = FlagManifest("renumbered", {"power_peg": 7})  # the name, on another id
    fleet_of(backend, gw_1=NEW, gw_5=by_id, gw_6=by_name)
    message = retire_refused(backend)
    assert "2 live member(s) still read it: gw-5 reads 'peg_v0' as id 1; gw-6 reads " in message
    assert "gw-6 reads 'power_peg' as id 7;" in message and "gw-1" not in message
