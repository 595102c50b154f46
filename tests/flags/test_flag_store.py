"""The registry file: round trips keep tombstones; corrupt or edited files are refused."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from knight_flags import fleet

from interlock.errors import FlagError
from interlock.flags import FlagRegistry, load_registry, save_registry


def test_a_missing_file_is_an_empty_registry(tmp_path: Path) -> None:
    registry = load_registry(tmp_path / "flags.json")
    assert registry.flags() == () and registry.history == ()


def test_round_trip_keeps_flags_history_and_enabled_state(
    tmp_path: Path, registry: FlagRegistry
) -> None:
    registry.enable("rlp", fleet(), "ops")
    path = tmp_path / "flags.json"
    save_registry(registry, path)
    loaded = load_registry(path)
    assert loaded.flags() == registry.flags()
    assert loaded.history == registry.history
    assert loaded.enabled_ids() == {8}
    assert [p.name for p in tmp_path.iterdir()] == ["flags.json"]  # no temp file left


def test_tombstones_survive_a_save_load_round_trip(tmp_path: Path, registry: FlagRegistry) -> None:
    path = tmp_path / "flags.json"
    save_registry(registry, path)
    loaded = load_registry(path)
    peg = loaded.get("power_peg")
    assert peg is not None and peg.retired and peg.retired_by == "release-eng"
    with pytest.raises(FlagError, match="tombstone"):
        loaded.register("power_peg", 1, "Power Peg parent-order slicer (unused since 2003)",
                        "smars")  # fmt: skip
    with pytest.raises(FlagError, match="id 1 already belongs to 'power_peg'"):
        loaded.register("rlp_v2", 1, "Retail Liquidity Program v2", "smars")


def test_save_replaces_the_whole_file_and_keeps_its_permissions(
    tmp_path: Path, registry: FlagRegistry
) -> None:
    path = tmp_path / "flags.json"
    save_registry(FlagRegistry(), path)
    os.chmod(path, 0o640)
    save_registry(registry, path)
    assert path.stat().st_mode & 0o777 == 0o640
    assert len(load_registry(path).flags()) == 2


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b"", "is corrupt"),
        (b"{not json", "is corrupt"),
        (b'{"format": "interlock-flags/1", "flags": [], "history": [{"kind": "nope"}]}',
         "is corrupt"),
        (b'{"format": "interlock-flags/1", "flags": [], "history": [], "extra": 1}',
         "is corrupt"),
        (b'{"format": "interlock-flags/9", "flags": [], "history": []}', "has format"),
    ],
)  # fmt: skip
def test_a_corrupt_file_is_refused_naming_it(tmp_path: Path, content: bytes, why: str) -> None:
    path = tmp_path / "flags.json"
    path.write_bytes(content)
    with pytest.raises(FlagError, match=why) as refused:
        load_registry(path)
    assert str(path) in str(refused.value)


def test_a_hand_edited_flag_table_is_refused(tmp_path: Path, registry: FlagRegistry) -> None:
    path = tmp_path / "flags.json"
    save_registry(registry, path)
    document = json.loads(path.read_text())
    document["flags"][0]["retired_at"] = None  # "un-retire" Power Peg by hand
    document["flags"][0]["retired_by"] = None
    path.write_text(json.dumps(document))
    with pytest.raises(FlagError, match="flag table disagrees with its history"):
        load_registry(path)


def test_a_history_that_reuses_a_name_is_refused(tmp_path: Path, registry: FlagRegistry) -> None:
    path = tmp_path / "flags.json"
    save_registry(registry, path)
    document = json.loads(path.read_text())
    document["history"][2]["name"] = "power_peg"  # RLP registered under the dead name
    path.write_text(json.dumps(document))
    with pytest.raises(FlagError, match="is corrupt: inconsistent flag history"):
        load_registry(path)


def test_save_into_a_missing_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FlagError, match="cannot write flag registry"):
        save_registry(FlagRegistry(), tmp_path / "no" / "flags.json")
