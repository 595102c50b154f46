"""`interlock flags lint|manifest` through the real Typer app: the local source tools,
which read a registry file and change nothing. (The registry changes act on the running
plane: tests/fleet/test_cli_flags.py.)"""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from interlock.cli import app
from interlock.flags import FlagManifest, FlagRegistry, save_registry

runner = CliRunner()
WIDE = {"COLUMNS": "250"}


def flags(registry: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["flags", *args, "--registry", str(registry)], env=WIDE)
    return result.exit_code, result.output


def knight(tmp_path: Path) -> Path:
    """Power Peg (id 1) retired; RLP registered as id 8."""
    registry = FlagRegistry()
    registry.register("power_peg", 1, "Power Peg", "smars")
    registry.retire("power_peg", {}, "release-eng")
    registry.register("rlp", 8, "Retail Liquidity Program", "smars")
    path = tmp_path / "flags.json"
    save_registry(registry, path)
    return path


def test_registry_changes_are_not_local_any_more(tmp_path: Path) -> None:
    code, out = flags(tmp_path / "flags.json", "register", "x", "--id", "1", "--meaning", "m",
                      "--owner", "o")  # fmt: skip
    assert code == 2 and "No such option: --registry" in out
    assert not (tmp_path / "flags.json").exists()


def test_lint_exits_1_with_one_line_per_finding(tmp_path: Path) -> None:
    registry = knight(tmp_path)
    source = tmp_path / "src"
    source.mkdir()
    (source / "old_router.py").write_text(
        'if flags.enabled("power_peg"):\n    send(child)\nflags.enabled("rlp")\n'
    )
    code, out = flags(registry, "lint", str(source))
    assert code == 1
    assert f"{source / 'old_router.py'}:1: FLAG_RETIRED_READ: reads retired flag" in out
    assert f"{source / 'old_router.py'}:2: FLAG_DEAD_CODE: line 2 can run only if" in out
    assert "2 finding(s) in 1 file(s): release refused" in out


def test_lint_on_clean_source_exits_0(tmp_path: Path) -> None:
    registry = knight(tmp_path)
    (tmp_path / "router.py").write_text('if flags.enabled("rlp"):\n    pass\n')
    code, out = flags(registry, "lint", str(tmp_path / "router.py"))
    assert code == 0, out
    assert "no findings in 1 file(s)" in out


def test_lint_without_a_registry_or_on_a_missing_path_exits_1(tmp_path: Path) -> None:
    code, out = flags(tmp_path / "none.json", "lint", str(tmp_path))
    assert code == 1 and "no flag registry at" in out
    code, out = flags(knight(tmp_path), "lint", str(tmp_path / "nope"))
    assert code == 1 and "no such file or directory" in out


def test_manifest_writes_the_builds_manifest(tmp_path: Path) -> None:
    registry = knight(tmp_path)
    (tmp_path / "router.py").write_text('flags.enabled("rlp")\n')
    out_file = tmp_path / "manifest.json"
    code, out = flags(registry, "manifest", str(tmp_path / "router.py"), "--build", "smars",
                      "--out", str(out_file))  # fmt: skip
    assert code == 0, out
    assert FlagManifest("smars", {"rlp": 8}).digest() in out
    assert "interlock-flag-manifest/1" in out_file.read_text()
    code, out = flags(registry, "manifest", str(tmp_path / "router.py"), "--build", "smars")
    assert code == 0 and '"rlp": 8' in out
    code, out = flags(tmp_path / "none.json", "manifest", str(tmp_path), "--build", "smars")
    assert code == 1 and "no flag registry at" in out


def test_a_corrupt_registry_file_exits_1(tmp_path: Path) -> None:
    registry = tmp_path / "flags.json"
    registry.write_text("{")
    code, out = flags(registry, "lint", str(tmp_path))
    assert code == 1 and "is corrupt" in out
