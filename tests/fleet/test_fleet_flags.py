"""Flags on a fleet of gateways: each instance's FlagSet follows the plane by id, a change
the registry makes to a member's verdict reaches its gate, and every instance journals the
flag changes it observes (`interlock journal show` prints them)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fleet_kit import submit
from typer.testing import CliRunner

from interlock.api.config import load_config
from interlock.cli import app
from interlock.control.embedded import EmbeddedControlPlane
from interlock.control.plane import Release
from interlock.domain.reject import RejectCode
from interlock.errors import FlagError
from interlock.flags import (
    FlagDisabled,
    FlagEnabled,
    FlagEvent,
    FlagManifest,
    FlagRegistered,
    FlagRegistry,
    FlagRetired,
)
from interlock.gateway.gateway import Gateway
from interlock.journal.sqlite import SqliteJournal
from interlock.render_text import EventSummarizer
from interlock.sim.fleet import InProcessFleet, RecordingVenue
from interlock.sim.harness import START_NS, ManualClock

BUILD = "b-rlp"
RLP = FlagManifest("rlp-build", {"rlp": 2, "sweep": 3})


def registry() -> FlagRegistry:
    r = FlagRegistry()
    r.register("rlp", 2, "Retail Liquidity Program routing", "smars")
    r.register("sweep", 3, "Sweep the book", "smars")
    return r


def fleet(size: int = 3, manifest: FlagManifest = RLP) -> InProcessFleet:
    return InProcessFleet(size, clock=ManualClock(START_NS), build_digest=BUILD, manifest=manifest,
                          flags=registry())  # fmt: skip


def flag_events(f: InProcessFleet, instance_id: str) -> list[FlagEvent]:
    journal = f.instances[instance_id].journal
    journal.flush()
    kinds = (FlagRegistered, FlagRetired, FlagEnabled, FlagDisabled)
    return [e for _, e in journal.read() if isinstance(e, kinds)]


def test_every_instance_s_flags_follow_the_plane_and_a_restart_picks_them_up() -> None:
    f = fleet()
    assert not any(f[i].flags.enabled("rlp") for i in f.ids)
    f.plane.enable_flag("rlp", "ops")
    assert all(f[i].flags.enabled("rlp") and not f[i].flags.enabled("sweep") for i in f.ids)
    assert f["gw-1"].flags.on() == frozenset({"rlp"})
    f.restart("gw-2", BUILD, manifest=RLP)
    assert f["gw-2"].flags.enabled("rlp")  # learned at join, not from a change
    f.plane.disable_flag("rlp", "ops")
    assert not any(f[i].flags.enabled("rlp") for i in f.ids)


def test_a_name_is_resolved_by_the_instance_s_own_id_never_by_the_name() -> None:
    f = fleet()
    confused = FlagManifest("confused", {"rlp": 3, "sweep": 2})  # names swapped
    f.restart("gw-3", BUILD, manifest=confused)
    f.stop("gw-3")  # it would hold the enable back while live
    f.plane.enable_flag("rlp", "ops")
    f.restart("gw-3", BUILD, manifest=confused)
    gw = f["gw-3"]
    assert gw.flags.enabled("sweep") and not gw.flags.enabled("rlp")  # its id 2 is on
    refusal = gw.gate.check(f.clock())
    assert refusal is not None and refusal.code is RejectCode.INSTANCE_NOT_ATTESTED
    assert "maps 'rlp' to id 3 (sweep); the registry has 'rlp' as id 2" in refusal.reason
    assert not submit(f, "gw-3", 1).accepted and f.sent("gw-3") == 0


def test_retiring_a_flag_a_live_build_reads_is_refused_and_the_fleet_keeps_routing() -> None:
    f = fleet()
    with pytest.raises(FlagError, match=r"3 live member.s. still read it: gw-1, gw-2, gw-3"):
        f.plane.retire_flag("sweep", "ops")
    assert all(submit(f, i, n).accepted for n, i in enumerate(f.ids, start=1))
    dropped = FlagManifest("rlp-only", {"rlp": 2})  # the build that no longer reads it
    for i in f.ids:
        f.restart(i, BUILD, manifest=dropped)
    f.plane.retire_flag("sweep", "ops")  # no live reader now
    f.restart("gw-3", BUILD, manifest=RLP)  # the old build comes back: it may not route
    d = submit(f, "gw-3", 9)
    assert d.code is RejectCode.INSTANCE_NOT_ATTESTED and "reads retired flag 'sweep'" in d.message
    assert f.sent("gw-3") == 0


def test_a_manifest_that_is_not_the_attested_digest_is_refused() -> None:
    f = fleet()
    f.restart("gw-3", BUILD, "digest-typed-by-hand", RLP)
    refusal = f["gw-3"].gate.check(f.clock())
    assert refusal is not None and refusal.code is RejectCode.INSTANCE_NOT_ATTESTED
    assert f"flag manifest digest {RLP.digest()[:12]} is not the flag digest it attests" in (
        refusal.reason
    )


def test_an_instance_without_a_manifest_may_read_no_flag() -> None:
    f = InProcessFleet(1, clock=ManualClock(START_NS))
    with pytest.raises(FlagError, match="is not in the manifest of build"):
        f["gw-1"].flags.enabled("rlp")


def test_every_instance_journals_the_flag_changes_it_observes_in_order() -> None:
    f = fleet(2)
    f.plane.register_flag("mm", 4, "Market making", "desk-9")
    f.plane.enable_flag("rlp", "ops")
    f.plane.disable_flag("rlp", "ops")
    f.plane.retire_flag("mm", "ops")
    for i in f.ids:
        events = flag_events(f, i)
        assert [type(e) for e in events] == [FlagRegistered, FlagEnabled, FlagDisabled,
                                             FlagRetired]  # fmt: skip
        assert events == list(f.plane.flag_registry().history[2:])  # the plane's own facts
    summary = EventSummarizer()
    assert [summary(e) for e in flag_events(f, "gw-1")] == [
        "FLAG registered 'mm' as id 4 (Market making), owner desk-9",
        "FLAG enabled 'rlp' (id 2) by ops; declared by 2 live member(s) (gw-1, gw-2)",
        "FLAG disabled 'rlp' by ops",
        "FLAG retired 'mm' by ops: a tombstone, never reused",
    ]


def test_journal_show_prints_the_flag_changes(tmp_path: Path) -> None:
    path = tmp_path / "gw.db"
    clock = ManualClock(START_NS)
    plane = EmbeddedControlPlane(Release(BUILD, RLP.digest(), 1), clock, registry())
    journal = SqliteJournal(path, background=False)
    gw = Gateway(load_config(), journal, RecordingVenue(), plane, clock=clock,
                 build_digest=BUILD, flag_manifest=RLP).start()  # fmt: skip
    plane.enable_flag("rlp", "ops")
    plane.disable_flag("rlp", "ops")
    gw.close()
    result = CliRunner().invoke(app, ["journal", "show", str(path)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "flag_enabled" in result.output and "flag_disabled" in result.output
    assert "FLAG enabled 'rlp' (id 2) by ops; declared by 1 live member(s) (gw-1)" in (
        result.output
    )
