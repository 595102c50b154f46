"""`interlock fleet ...` against a running fleet, through a real admin listener: status,
members, a deploy with a straggler, rollback, halts, credentials; and the Knight demo."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from admin_rig import OPERATOR, READER, Rig, runner, running_fleet

from interlock.cli import app
from interlock.flags import FlagRegistry


@pytest.fixture
def rig() -> Iterator[Rig]:
    yield from running_fleet()


def test_status_shows_the_release_and_every_live_member_attested(rig: Rig) -> None:
    code, out = rig.cli("fleet", "status")
    assert code == 0, out
    assert "release: build b1, flags (none), epoch 1; 3/3 live members attested" in out
    assert "gw-1 (this listener): routing" in out and "no deploy pending" in out
    for i in ("gw-1", "gw-2", "gw-3"):
        assert i in out


def test_members_shows_attestation_lease_gate_and_flag_verdict(rig: Rig) -> None:
    rig.restart(["gw-3"], "b0-old")
    code, out = rig.cli("fleet", "members")
    assert code == 0, out
    (row,) = [line for line in out.splitlines() if line.strip().startswith("gw-3")]
    assert "INSTANCE_NOT_ATTESTED" in row and "b0-old" in row and " ms" in row
    assert "accepted" in row  # the flag registry's verdict on its (empty) manifest


def test_commit_with_a_stale_member_is_refused_naming_it_then_commits_when_it_attests(
    rig: Rig,
) -> None:
    code, out = rig.cli("fleet", "propose", "--build", "b2")
    assert code == 0, out
    assert "0/3 expected members attest it" in out and "proposed by ops-alice" in out
    rig.restart(["gw-1", "gw-2"], "b2")  # gw-3 stays on b1: the straggler
    code, out = rig.cli("fleet", "readiness")
    assert code == 0 and "2/3 expected members attest it" in out, out

    code, out = rig.cli("fleet", "commit")
    assert code == 1, out
    assert "DEPLOY_REFUSED: commit refused, nothing changed: gw-3: attests build b1" in out
    assert "gw-1" not in out.split("nothing changed:")[1]
    assert rig.fleet.plane.release().epoch == 1

    rig.restart(["gw-3"], "b2")
    code, out = rig.cli("fleet", "commit")
    assert code == 0, out
    assert "committed: build b2, flags (none) at epoch 2 for gw-1, gw-2, gw-3" in out
    assert rig.fleet.plane.release().build_digest == "b2"


def _deploy(rig: Rig, build: str) -> None:
    assert rig.cli("fleet", "propose", "--build", build)[0] == 0
    rig.restart(rig.fleet.ids, build)
    code, out = rig.cli("fleet", "commit")
    assert code == 0, out


def test_rollback_proposes_the_release_committed_before_the_current_one(rig: Rig) -> None:
    _deploy(rig, "b2")
    code, out = rig.cli("fleet", "rollback")  # gw-1 saw no release committed before b2
    assert code == 1 and "journal holds no release committed before epoch 2" in out, out
    _deploy(rig, "b3")

    code, out = rig.cli("fleet", "rollback")
    assert code == 0, out
    assert "rollback to build b2, flags (none) (released at epoch 2)" in out
    assert "pending deploy: build b2" in out and "0/3 expected members attest it" in out
    rig.restart(rig.fleet.ids, "b2")
    code, out = rig.cli("fleet", "commit")
    assert code == 0 and "committed: build b2, flags (none) at epoch 4" in out, out


def test_abort_drops_the_deploy_and_keeps_the_release(rig: Rig) -> None:
    assert rig.cli("fleet", "propose", "--build", "b2", "--member", "gw-2")[0] == 0
    code, out = rig.cli("fleet", "abort", "--reason", "wrong build")
    assert code == 0 and "aborted: build b2, flags (none) for 1 member(s) (gw-2)" in out, out
    assert rig.fleet.plane.proposal() is None and rig.fleet.plane.release().epoch == 1
    code, out = rig.cli("fleet", "commit")
    assert code == 1 and "DEPLOY_REFUSED: commit refused, nothing changed: no deploy is " \
        "pending" in out  # fmt: skip


def test_propose_behind_the_release_gate_refuses_a_read_of_a_retired_flag(
    tmp_path: Path,
) -> None:
    registry = FlagRegistry()
    registry.register("power_peg", 1, "Power Peg", "smars")
    registry.retire("power_peg", {}, "release-eng")
    source = tmp_path / "router.py"
    source.write_text('if flags.enabled("power_peg"):\n    send(child)\n')
    for rig in running_fleet(flags=registry):
        code, out = rig.cli("fleet", "propose", "--build", "b2", "--lint", str(source))
        assert code == 1, out
        assert "DEPLOY_REFUSED: propose refused, nothing changed: release gate:" in out
        assert "FLAG_RETIRED_READ" in out and rig.fleet.plane.proposal() is None


def test_halt_reports_every_member_confirming_and_resume_lifts_it(rig: Rig) -> None:
    code, out = rig.cli("fleet", "halt", "--reason", "drill")
    assert code == 0 and "3/3 halted in " in out, out
    code, out = rig.cli("fleet", "status")
    assert "halt in force: global by ops-alice: drill" in out
    code, out = rig.cli("fleet", "resume")
    assert code == 0 and "resumed" in out
    assert rig.fleet.plane.halts() == []
    assert "nothing to resume" in rig.cli("fleet", "resume")[1]


def test_a_reader_token_sees_the_fleet_but_cannot_propose_commit_or_halt(rig: Rig) -> None:
    assert rig.cli("fleet", "status", token=READER)[0] == 0
    for args in (["propose", "--build", "b2"], ["commit"], ["abort"], ["rollback"],
                 ["halt"], ["resume"]):  # fmt: skip
        code, out = rig.cli("fleet", *args, token=READER)
        assert code == 1, (args, out)
        assert "UNAUTHENTICATED: role reader may not operate" in out, args
        assert READER not in out
    assert rig.fleet.plane.proposal() is None and rig.fleet.plane.halts() == []


def test_a_wrong_token_is_refused_and_never_echoed(rig: Rig) -> None:
    for args in (["status"], ["halt"]):
        code, out = rig.cli("fleet", *args, token="not-a-token")
        assert code == 1 and "UNAUTHENTICATED: credential not recognised" in out, out
        assert "not-a-token" not in out
    assert rig.fleet.plane.halts() == []


def test_no_listener_or_no_url_is_a_clean_exit_2(rig: Rig) -> None:
    url = rig.url
    rig.listener.stop()
    result = runner.invoke(app, ["fleet", "status", "--admin", url, "--token", OPERATOR])
    assert result.exit_code == 2 and f"no admin listener answered at {url}" in result.output
    assert OPERATOR not in result.output and "Traceback" not in result.output
    result = runner.invoke(app, ["fleet", "status", "--token", OPERATOR], env={
        "INTERLOCK_ADMIN_URL": ""})  # fmt: skip
    assert result.exit_code == 2 and "pass --admin URL or set INTERLOCK_ADMIN_URL" in result.output
    result = runner.invoke(app, ["fleet", "status", "--admin", "ftp://x", "--token", "t"])
    assert result.exit_code == 2 and "must be an http:// or https:// URL" in result.output


def test_help_says_the_commands_act_on_the_running_fleet_and_knight_is_a_demo() -> None:
    out = runner.invoke(app, ["fleet", "--help"], env={"COLUMNS": "200"}).output
    assert "running fleet" in out and "admin listener" in out
    assert "DEMO" in runner.invoke(app, ["fleet", "knight", "--help"]).output


def test_knight_demo_refuses_the_commit_and_the_flag_and_the_stale_router_sends_nothing() -> None:
    result = runner.invoke(app, ["fleet", "knight", "--orders", "50"], env={"COLUMNS": "160"})
    code, out = result.exit_code, result.output
    assert code == 0, out
    assert "gw-8 came back on the stale binary: INSTANCE_NOT_ATTESTED: instance gw-8 is not " \
        "attested" in out and "reads retired flag 'power_peg'" in out  # fmt: skip
    assert "DEPLOY_REFUSED: commit refused, nothing changed: gw-8" in out
    assert "FLAG_REFUSED: cannot enable 'rlp' (id 2: Retail Liquidity Program routing): gw-8 " \
        "maps 'rlp' to id 1 (power_peg)" in out  # fmt: skip
    assert "gw-8: 100 orders sent, refused as ['INSTANCE_NOT_ATTESTED'], 0 reached the venue" \
        in out  # fmt: skip
    assert "7/8 routing" in out and "8/8 halted in " in out
