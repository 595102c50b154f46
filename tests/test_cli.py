"""The `interlock` command line: demo, config check, journal show, version."""

from __future__ import annotations

import io
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from interlock import __version__
from interlock.cli import app
from interlock.demo import ACCEPTED, run_demo
from interlock.domain.reject import RejectCode

STORY_CODES = ("ACCEPTED", "MAX_ORDER_QTY", "PRICE_COLLAR", "PARENT_OVERFILL", "HALTED")
runner = CliRunner()


def test_run_demo_plays_every_step_as_scripted_and_journals_it(tmp_path: Path) -> None:
    journal = tmp_path / "demo.db"
    out = io.StringIO()
    result = run_demo(Console(file=out, width=120), journal)

    assert result.surprises == ()
    assert result.journal_path == journal
    assert {
        "MAX_ORDER_QTY", "MAX_ORDER_NOTIONAL", "PRICE_COLLAR", "DUPLICATE_ORDER",
        "RESTRICTED_SYMBOL", "UNKNOWN_SYMBOL", "SCHEMA_INVALID", "UNAUTHENTICATED",
        "PARENT_OVERFILL", "POSITION_LIMIT", "IDEMPOTENCY_CONFLICT", "HALTED", "SESSION_MISMATCH",
    } <= set(result.rejected)  # fmt: skip
    assert set(result.rejected) <= {c.value for c in RejectCode}
    assert result.accepted + sum(result.rejected.values()) == len(result.orders)
    assert any(r.replayed and r.outcome == ACCEPTED for r in result.orders)
    with sqlite3.connect(journal) as conn:
        assert conn.execute("SELECT COUNT(*) FROM events").fetchone()[0] == result.durable_records
    positions = {(a, s): (p, b, o) for a, s, p, b, o in result.positions}
    assert 0 < positions[("desk-7", "GOOG")][0] <= 300  # never more than the parent
    assert positions[("desk-7", "TSLA")] == (0, 1_000, 0)  # the halted bid was cancelled
    assert result.summary() in out.getvalue()


def test_run_demo_refuses_an_existing_journal(tmp_path: Path) -> None:
    existing = tmp_path / "old.db"
    existing.write_bytes(b"")
    with pytest.raises(FileExistsError):
        run_demo(Console(file=io.StringIO()), existing)


def test_demo_command_exits_0_and_shows_the_story(tmp_path: Path) -> None:
    journal = tmp_path / "j.db"
    result = runner.invoke(app, ["demo", "--journal", str(journal), "--seed", "3"])
    assert result.exit_code == 0, result.output
    for word in STORY_CODES:
        assert word in result.output
    assert "Positions" in result.output
    assert journal.is_file()

    shown = runner.invoke(app, ["journal", "show", str(journal), "--limit", "0"])
    assert shown.exit_code == 0, shown.output
    for kind in ("limits", "decided", "fill", "parent", "halt", "cancelled", "resume"):
        assert f" {kind} " in shown.output
    assert "ACCEPTED order 1" in shown.output
    assert "PARENT_OVERFILL" in shown.output

    limited = runner.invoke(app, ["journal", "show", str(journal), "--limit", "3"])
    assert limited.exit_code == 0
    assert "3 of " in limited.output


def test_demo_runs_as_a_real_process() -> None:
    env = {**os.environ, "COLUMNS": "120"}
    proc = subprocess.run(
        [sys.executable, "-m", "interlock.cli", "demo"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for word in STORY_CODES:
        assert word in proc.stdout
    assert "journal records durable" in proc.stdout


def test_config_check_accepts_the_packaged_default() -> None:
    result = runner.invoke(app, ["config", "check"])
    assert result.exit_code == 0, result.output
    assert "valid" in result.output
    assert "AAPL" in result.output


def test_config_check_on_a_bad_file_exits_1_naming_each_key(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[instruments]\nAAPL = { tick_size = "0.01" }\n'
        "[limits.defaults]\nmax_order_qty = -5\ncolour = 'red'\n"
    )
    result = runner.invoke(app, ["config", "check", str(bad)], env={"COLUMNS": "200"})
    assert result.exit_code == 1
    assert "limits.defaults.max_order_qty" in result.output
    assert "limits.defaults.colour" in result.output


def test_config_check_on_a_missing_file_exits_1(tmp_path: Path) -> None:
    result = runner.invoke(app, ["config", "check", str(tmp_path / "none.toml")])
    assert result.exit_code == 1
    assert "cannot read" in result.output


def test_journal_show_on_a_missing_or_foreign_file_exits_1(tmp_path: Path) -> None:
    assert runner.invoke(app, ["journal", "show", str(tmp_path / "none.db")]).exit_code == 1
    junk = tmp_path / "junk.db"
    junk.write_text("not sqlite")
    result = runner.invoke(app, ["journal", "show", str(junk)])
    assert result.exit_code == 1
    assert "not a readable Interlock journal" in result.output


def test_version_prints_the_package_version() -> None:
    result = runner.invoke(app, ["version"])
    assert result.exit_code == 0
    assert __version__ in result.output
