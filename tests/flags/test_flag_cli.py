"""`interlock flags ...` through the real Typer app: exit codes, messages, the file."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from interlock.cli import app
from interlock.flags import FlagManifest, load_registry

runner = CliRunner()
WIDE = {"COLUMNS": "250"}
PEG = ["--id", "1", "--meaning", "Power Peg", "--owner", "smars"]
RLP = ["--id", "8", "--meaning", "Retail Liquidity Program", "--owner", "smars"]


def flags(registry: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["flags", *args, "--registry", str(registry)], env=WIDE)
    return result.exit_code, result.output


def knight(tmp_path: Path) -> Path:
    registry = tmp_path / "flags.json"
    assert flags(registry, "register", "power_peg", *PEG)[0] == 0
    assert flags(registry, "retire", "power_peg", "--who", "release-eng")[0] == 0
    assert flags(registry, "register", "rlp", *RLP)[0] == 0
    return registry


def manifests(tmp_path: Path, stale: dict[str, int] | None = None) -> list[str]:
    args: list[str] = []
    for i in range(1, 9):
        reads = stale if (stale is not None and i == 8) else {"rlp": 8}
        path = tmp_path / f"gw-{i}.json"
        path.write_text(FlagManifest("smars", reads).to_json())
        args += ["--manifest", str(path)]
    return args


def test_register_creates_the_file_and_again_is_unchanged(tmp_path: Path) -> None:
    registry = tmp_path / "flags.json"
    code, out = flags(registry, "register", "rlp", *RLP)
    assert code == 0, out
    assert "registered: 'rlp' (id 8: Retail Liquidity Program)" in out
    assert registry.is_file()
    code, out = flags(registry, "register", "rlp", *RLP)
    assert code == 0 and "unchanged" in out


def test_register_a_retired_name_or_its_id_exits_1_and_leaves_the_file(tmp_path: Path) -> None:
    registry = knight(tmp_path)
    before = registry.read_bytes()
    code, out = flags(registry, "register", "power_peg", *PEG)
    assert code == 1 and "tombstone" in out
    code, out = flags(registry, "register", "rlp_v2", *PEG)
    assert code == 1 and "id 1 already belongs to 'power_peg'" in out
    assert registry.read_bytes() == before


def test_list_shows_every_flag_with_its_state(tmp_path: Path) -> None:
    registry = knight(tmp_path)
    code, out = flags(registry, "list")
    assert code == 0, out
    assert "2 flag(s)" in out
    assert "power_peg" in out and "retired 2" in out and "by release-eng" in out
    assert "rlp" in out and "off" in out


def test_enable_with_the_stale_manifest_exits_1_naming_gw_8(tmp_path: Path) -> None:
    registry = knight(tmp_path)
    code, out = flags(registry, "enable", "rlp", "--who", "ops",
                      *manifests(tmp_path, {"rlp": 1}))  # fmt: skip
    assert code == 1
    assert "gw-8 maps 'rlp' to id 1 (power_peg)" in out
    assert load_registry(registry).enabled_ids() == frozenset()


def test_enable_without_manifests_exits_1(tmp_path: Path) -> None:
    code, out = flags(knight(tmp_path), "enable", "rlp", "--who", "ops")
    assert code == 1 and "no live member manifests" in out


def test_enable_then_disable_with_eight_agreeing_members(tmp_path: Path) -> None:
    registry = knight(tmp_path)
    code, out = flags(registry, "enable", "rlp", "--who", "ops", *manifests(tmp_path))
    assert code == 0, out
    assert "enabled (8 member(s) agree)" in out
    assert load_registry(registry).enabled_ids() == {8}
    code, out = flags(registry, "disable", "rlp", "--who", "ops")
    assert code == 0 and "disabled" in out
    assert load_registry(registry).enabled_ids() == frozenset()


def test_enable_accepts_member_equals_file_and_refuses_a_missing_file(tmp_path: Path) -> None:
    registry = knight(tmp_path)
    path = tmp_path / "m.json"
    path.write_text(FlagManifest("smars", {"rlp": 8}).to_json())
    code, out = flags(registry, "enable", "rlp", "--who", "ops", "--manifest", f"gw-1={path}")
    assert code == 0, out
    code, out = flags(registry, "enable", "rlp", "--who", "ops", "--manifest", "gw-1=none.json")
    assert code == 1 and "cannot read flag manifest" in out


def test_retire_and_disable_an_unknown_flag_exit_1(tmp_path: Path) -> None:
    registry = knight(tmp_path)
    assert flags(registry, "retire", "nope", "--who", "ops") == (
        1, "cannot retire 'nope': no such flag in the registry\n",
    )  # fmt: skip
    code, out = flags(registry, "disable", "nope", "--who", "ops")
    assert code == 1 and "no such flag" in out


def test_retire_without_who_is_a_usage_error(tmp_path: Path) -> None:
    assert flags(knight(tmp_path), "retire", "rlp")[0] == 2


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
    code, out = flags(registry, "list")
    assert code == 1 and "is corrupt" in out
