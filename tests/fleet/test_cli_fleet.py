"""`interlock fleet ...` on its in-process demo fleet: status, deploy, halt, the Knight drill."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from interlock.cli import app
from interlock.flags import FlagManifest

runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["fleet", *args], env={"COLUMNS": "160"})
    return result.exit_code, result.output


def test_help_says_the_fleet_is_in_process_and_etcd_comes_later() -> None:
    code, out = run("--help")
    assert code == 0
    assert "in-process demo fleet" in out and "etcd" in out


def test_status_shows_every_instance_routing_on_the_release() -> None:
    code, out = run("status", "--instances", "3")
    assert code == 0
    assert "epoch 1; 3/3 routing" in out
    assert all(f"gw-{i}" in out for i in (1, 2, 3)) and out.count("routing") == 4


def test_deploy_commit_with_every_instance_restarted_releases_epoch_2() -> None:
    code, out = run("deploy", "commit", "--instances", "3", "--build", "b2")
    assert code == 0, out
    assert "committed: build b2 at epoch 2" in out and "3/3 routing" in out


def test_deploy_commit_with_a_stale_instance_is_refused_naming_it() -> None:
    code, out = run("deploy", "commit", "--instances", "4", "--build", "b2", "--stale", "gw-2")
    assert code == 1
    assert "DEPLOY_REFUSED: commit refused, nothing changed: gw-2: attests build" in out


def test_deploy_propose_shows_who_attests_and_abort_keeps_the_release() -> None:
    code, out = run("deploy", "propose", "--instances", "3", "--stale", "gw-3")
    assert code == 0 and "2/3 expected members attest it" in out
    assert "pending deploy: build next-build" in out
    code, out = run("deploy", "abort", "--instances", "3")
    assert code == 0 and "aborted: build next-build" in out and "epoch 1" in out


def test_deploy_with_an_unknown_stale_instance_is_a_usage_error() -> None:
    code, out = run("deploy", "commit", "--stale", "gw-99")
    assert code == 1 and "no such instance(s): gw-99" in out


def test_release_gate_refuses_the_proposal_when_the_linter_has_findings(tmp_path: Path) -> None:
    source = tmp_path / "rlp.py"
    source.write_text("def route(flags):\n    return flags.enabled('power_peg')\n")
    registry = tmp_path / "flags.json"  # no registry: every read is of an unknown flag
    code, out = run("deploy", "propose", "--instances", "2", "--lint", str(source),
                    "--registry", str(registry))  # fmt: skip
    assert code == 1 and "propose refused" in out and "release gate:" in out


def test_halt_reports_every_instance_confirming() -> None:
    code, out = run("halt", "--instances", "8", "--scope", "symbol", "--target", "AAPL")
    assert code == 0 and "8/8 halted in " in out


def test_resume_lifts_the_halt_and_the_fleet_routes() -> None:
    code, out = run("resume", "--instances", "2")
    assert code == 0 and "2/2 halted in " in out and "resumed" in out and "2/2 routing" in out


def test_knight_drill_refuses_the_commit_and_the_flag_and_the_stale_router_sends_nothing() -> None:
    code, out = run("knight", "--orders", "50")
    assert code == 0, out
    assert "gw-8 came back on the stale binary: INSTANCE_NOT_ATTESTED: instance gw-8 is not " \
        "attested" in out and "reads retired flag 'power_peg'" in out  # fmt: skip
    assert "DEPLOY_REFUSED: commit refused, nothing changed: gw-8" in out
    assert "FLAG_REFUSED: cannot enable 'rlp' (id 2: Retail Liquidity Program routing): gw-8 " \
        "maps 'rlp' to id 1 (power_peg)" in out  # fmt: skip
    assert "gw-8: 100 orders sent, refused as ['INSTANCE_NOT_ATTESTED'], 0 reached the venue" \
        in out  # fmt: skip
    assert "7/8 routing" in out and "8/8 halted in " in out


def test_release_gate_with_clean_source_proposes_its_manifest_and_commits(
    tmp_path: Path,
) -> None:
    source = tmp_path / "router.py"
    source.write_text("def route(flags):\n    return flags.enabled('rlp')\n")
    registry = tmp_path / "flags.json"
    runner.invoke(app, ["flags", "register", "rlp", "--id", "2", "--meaning", "RLP",
                        "--owner", "smars", "--registry", str(registry)])  # fmt: skip
    code, out = run("deploy", "commit", "--instances", "3", "--build", "b2", "--lint",
                    str(source), "--registry", str(registry))  # fmt: skip
    assert code == 0, out
    digest = FlagManifest("b2", {"rlp": 2}).digest()
    assert f"proposed: build b2, flags {digest[:12]}" in out
    assert "committed: build b2 at epoch 2" in out and "3/3 routing" in out


def test_release_gate_refuses_flags_that_are_not_the_source_s_manifest(tmp_path: Path) -> None:
    source = tmp_path / "router.py"
    source.write_text("def route(flags):\n    return flags.enabled('rlp')\n")
    registry = tmp_path / "flags.json"
    runner.invoke(app, ["flags", "register", "rlp", "--id", "2", "--meaning", "RLP",
                        "--owner", "smars", "--registry", str(registry)])  # fmt: skip
    code, out = run("deploy", "propose", "--instances", "2", "--flags", "typed-by-hand",
                    "--lint", str(source), "--registry", str(registry))  # fmt: skip
    assert code == 1 and "release gate: the proposal's flag digest typed-by-han" in out
