"""The `interlock` command starts cheap: importing it and asking any command for `--help`
loads neither the plotting, web, FIX, replay nor demo stacks; every command group is still
listed, and the seeds shown in `--help` are the ones the demo and the replay really use.

Speed is never asserted as wall-clock: a fresh interpreter reports what it loaded."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import entry_points

from typer.testing import CliRunner

from interlock.cli import app

HEAVY = (
    "matplotlib",
    "fastapi",
    "uvicorn",
    "quickfix",
    "interlock.replay",
    "interlock.demo",
    "interlock.api",
    "interlock.gateway",
)
GROUPS = ("version", "demo", "serve", "config", "journal", "flags", "fleet", "replay")

PROBE = f"""
import json, sys
import typer
from typer.testing import CliRunner

HEAVY = {HEAVY!r}

def loaded():
    return sorted(m for m in sys.modules if any(m == h or m.startswith(h + ".") for h in HEAVY))

import interlock.cli
after_import = loaded()

paths = []
def walk(command, path):
    paths.append(path)
    for name, sub in getattr(command, "commands", {{}}).items():
        walk(sub, path + [name])
walk(typer.main.get_command(interlock.cli.app), [])

runner = CliRunner()
codes = {{" ".join(p): runner.invoke(interlock.cli.app, p + ["--help"]).exit_code for p in paths}}
print(json.dumps({{"after_import": after_import, "after_help": loaded(), "codes": codes}}))
"""


def _probe() -> dict[str, object]:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result: dict[str, object] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def test_importing_the_cli_and_every_help_leaves_the_heavy_stacks_unloaded() -> None:
    probe = _probe()
    assert probe["after_import"] == []
    assert probe["after_help"] == []
    codes = probe["codes"]
    assert isinstance(codes, dict)
    wanted = {"fleet commit", "fleet knight", "replay knight", "flags lint", "serve", "demo"}
    assert wanted <= set(codes)
    assert set(codes.values()) == {0}, codes


def test_help_lists_every_command_group() -> None:
    result = CliRunner().invoke(app, ["--help"], terminal_width=120)
    assert result.exit_code == 0, result.output
    listed = {line.strip("│ ").split(" ")[0] for line in result.output.splitlines()}
    assert set(GROUPS) <= listed


def test_help_runs_as_a_real_process_through_python_dash_m() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "interlock.cli", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Usage:" in proc.stdout
    assert "replay" in proc.stdout


def test_the_interlock_entry_point_is_the_cli_app() -> None:
    (script,) = entry_points(group="console_scripts", name="interlock")
    assert script.load() is app


def test_seeds_shown_in_help_are_the_ones_the_demo_and_the_replay_use() -> None:
    from interlock import demo
    from interlock.cli import demo as demo_cli
    from interlock.cli import replay as replay_cli
    from interlock.replay import knight

    assert demo_cli.DEFAULT_SEED == demo.DEFAULT_SEED
    assert replay_cli.DEFAULT_SEED == knight.DEFAULT_SEED
