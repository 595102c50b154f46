"""The replay's report: the baseline lands in KNIGHT.md's bands, each protected run meets
its target, the same seed gives the same report.json, and the CLI runs end to end."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from interlock.cli import app
from interlock.replay import BANDS, RUN_NAMES, KnightReport, run_knight
from interlock.replay.report import ALL_MAX_HALT_AFTER_RUNAWAY_S

BASELINE_KEYS = {
    "servers", "stale_servers", "servers_running_power_peg_after_fix", "parent_orders",
    "preopen_warnings", "runaway_minutes", "executions", "symbols", "long_symbols",
    "short_symbols", "shares", "net_long_usd", "net_short_usd", "loss_usd",
}  # fmt: skip
RUN_KEYS = {
    "stale_orders_routed", "executions", "shares", "peak_gross_usd", "loss_usd",
    "halt_after_s", "first_reject_code",
}  # fmt: skip


def _without_runtime(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k != "runtime_s"}


def test_default_baseline_lands_in_every_band_of_knight_md(knight: KnightReport) -> None:
    marks = {b.key: (value, ok) for b, value, ok in knight.band_marks()}
    assert set(marks) == {b.key for b in BANDS} == BASELINE_KEYS
    assert [k for k, (_, ok) in marks.items() if not ok] == [], marks
    assert knight.in_band


def test_default_baseline_moves_prices_about_as_the_sec_says(knight: KnightReport) -> None:
    b = knight.baseline  # SEC ¶18: 75 stocks moved more than 5%, 37 more than 10%
    assert 60 <= b.moved_5pct <= 90 and 25 <= b.moved_10pct <= 50
    assert b.child_orders > b.executions  # "millions of child orders" for 4 M executions


def test_full_routes_nothing_from_the_stale_server_and_every_refusal_is_noted(
    knight: KnightReport,
) -> None:
    full = knight.runs[0]
    assert full.name == "full" and full.stale_orders_routed == 0
    assert full.first_reject_code == "INSTANCE_NOT_ATTESTED"
    eight = ", ".join(f"gw-{i}" for i in range(1, 9))
    expected = [  # (how the note starts, what it must say), in the order of the day
        ("reusing Power Peg's flag for RLP refused", "id 1 already belongs to 'power_peg'"),
        ("retiring 'power_peg' refused", f"8 live member(s) still read it: {eight} read"),
        ("deploy commit refused", "gw-8: attests build"),
        ("enabling 'rlp' refused", "gw-8 maps 'rlp' to id 1 (power_peg)"),
        ("redeployed to the seven good servers", "gw-8 is fenced"),
        ("retiring 'power_peg' refused", "1 live member(s) still read it: gw-8 reads"),
        ("rollback refused", "release gate: flag manifest of build 'smars-2003-power-peg': "
         "maps 'rlp' to id 1 (power_peg); the registry has 'rlp' as id 2"),
    ]  # fmt: skip
    notes = full.notes[: len(expected)]
    assert len(notes) == len(expected), full.notes
    for note, (start, says) in zip(notes, expected, strict=True):
        assert note.startswith(start) and says in note, note


def test_each_defence_alone_keeps_the_loss_under_one_million(knight: KnightReport) -> None:
    alone = [r for r in knight.runs if r.name.startswith("no_fleet_gate:") and r.name != (
        "no_fleet_gate:all")]  # fmt: skip
    assert len(alone) == 5
    for r in alone:
        assert r.loss_usd <= 1_000_000, (r.name, r.loss_usd)
        assert r.halt_after_s is not None and r.halt_after_s < 60, r.name
        assert r.executions < knight.baseline.executions / 100


def test_all_defences_lose_under_10k_and_halt_within_2_s_of_the_first_runaway_child(
    knight: KnightReport,
) -> None:
    r = knight.runs[-1]
    assert r.name == "no_fleet_gate:all"
    assert r.loss_usd <= 10_000
    after = r.halt_after_runaway_s
    assert after is not None and 0 <= after <= ALL_MAX_HALT_AFTER_RUNAWAY_S
    assert knight.targets_met


def test_the_readiness_gate_is_not_ready_at_the_open_with_97_warnings(
    knight: KnightReport,
) -> None:
    for r in knight.runs:
        assert r.readiness is not None and not r.readiness.ready
        assert r.readiness.warnings == 97
        assert r.readiness.sources == (("gw-8", 97),)


def test_another_seed_gives_another_day(knight: KnightReport) -> None:
    """The same seed giving the same report.json is proven end to end by
    `test_cli_runs_a_short_scenario_end_to_end` (two runs, one report); a second full
    45-minute replay here proved it again at four times the cost."""
    other = run_knight(knight.seed + 1, minutes=3)
    assert other.to_json()["baseline"] != knight.to_json()["baseline"]


def test_cli_runs_a_short_scenario_end_to_end(tmp_path: Path) -> None:
    out = tmp_path / "report"
    args = ["replay", "knight", "--out", str(out), "--seed", "7", "--minutes", "9"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "in band" in result.output and "every other defence together" in result.output
    doc = json.loads((out / "report.json").read_text())
    assert set(doc) == {"seed", "runtime_s", "baseline", "protected"}
    assert doc["seed"] == 7 and set(doc["baseline"]) == BASELINE_KEYS
    assert tuple(doc["protected"]) == RUN_NAMES
    assert all(set(run) == RUN_KEYS for run in doc["protected"].values())
    assert doc["baseline"]["runaway_minutes"] == 9.0
    page = (out / "report.html").read_text()
    assert page.count("data:image/png;base64,") == 3
    for name in ("executions.png", "loss.png", "positions.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    (out / "report.json").unlink()  # the second run must write its own: same seed, same day
    second = CliRunner().invoke(app, args)
    assert second.exit_code == 0
    assert _without_runtime(json.loads((out / "report.json").read_text())) == _without_runtime(doc)
