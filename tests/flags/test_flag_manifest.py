"""Manifests: a stable digest, the join check, files, and the runtime reader built on them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from knight_flags import fleet

from interlock.errors import FlagError
from interlock.flags import FlagManifest, FlagRegistry, FlagSet, load_manifest

READS = {"rlp": 8, "odd_lot_sweep": 9, "a.b-c": 12, "zeta": 3}
PRINT_DIGEST = (
    "from interlock.flags import FlagManifest\n"
    "print(FlagManifest('smars-2012.07.27', {'zeta': 3, 'a.b-c': 12, 'odd_lot_sweep': 9, "
    "'rlp': 8}).digest())"
)


def test_digest_does_not_depend_on_insertion_order() -> None:
    shuffled = dict(reversed(list(READS.items())))
    assert FlagManifest("b", READS).digest() == FlagManifest("b", shuffled).digest()
    assert FlagManifest("b", READS) == FlagManifest("b", shuffled)
    assert len({FlagManifest("b", READS), FlagManifest("b", shuffled)}) == 1


def test_digest_changes_with_any_id_name_or_build() -> None:
    base = FlagManifest("b", READS).digest()
    assert FlagManifest("b", {**READS, "rlp": 1}).digest() != base
    assert FlagManifest("b", {**READS, "extra": 20}).digest() != base
    assert FlagManifest("c", READS).digest() != base


@pytest.mark.parametrize("seed", ["0", "1", "4242"])
def test_digest_is_stable_across_processes_with_other_hash_seeds(seed: str) -> None:
    here = FlagManifest("smars-2012.07.27", READS).digest()
    env = {**os.environ, "PYTHONHASHSEED": seed}
    proc = subprocess.run(
        [sys.executable, "-c", PRINT_DIGEST],
        capture_output=True, text=True, env=env, check=True, timeout=60,
    )  # fmt: skip
    assert proc.stdout.strip() == here
    assert len(here) == 64


def test_check_lets_the_new_build_join_and_refuses_the_stale_one(
    registry: FlagRegistry,
) -> None:
    assert FlagManifest("new", {"rlp": 8}).check(registry) == []
    stale = FlagManifest("smars-2003", {"power_peg": 1, "rlp": 1, "sweep": 9})
    assert stale.check(registry) == [
        "reads retired flag 'power_peg' (id 1: Power Peg parent-order slicer (unused since "
        "2003), retired)",
        "maps 'rlp' to id 1 (power_peg); the registry has 'rlp' as id 8",
        "reads unknown flag 'sweep' as id 9",
    ]


def test_check_refuses_a_build_that_drops_an_enabled_flag(registry: FlagRegistry) -> None:
    registry.enable("rlp", fleet(), "ops")
    assert FlagManifest("no-rlp", {}).check(registry) == [
        "does not declare enabled flag 'rlp' (id 8: Retail Liquidity Program routing)"
    ]


def test_check_names_the_holder_of_an_id_read_under_an_unknown_name(
    registry: FlagRegistry,
) -> None:
    assert FlagManifest("b", {"rlp": 8, "retail": 8}).check(registry) == [
        "reads unknown flag 'retail' as id 8; id 8 is 'rlp' (id 8: Retail Liquidity Program "
        "routing)"
    ]


@pytest.mark.parametrize("reads", [{"rlp": 0}, {"rlp": True}, {"rlp": "8"}])
def test_a_manifest_with_a_bad_id_is_refused(reads: dict[str, object]) -> None:
    with pytest.raises(FlagError, match="positive id"):
        FlagManifest("b", reads)  # type: ignore[arg-type]
    with pytest.raises(FlagError, match="build name"):
        FlagManifest("", {})


def test_manifest_file_round_trip_and_bad_files(tmp_path: Path) -> None:
    manifest = FlagManifest("smars-2012.07.27", READS)
    path = tmp_path / "gw-1.json"
    path.write_text(manifest.to_json())
    assert load_manifest(path) == manifest
    (tmp_path / "bad.json").write_text('{"build": "b", "reads": {"rlp": "eight"}}')
    with pytest.raises(FlagError, match=r"bad\.json is not a valid manifest"):
        load_manifest(tmp_path / "bad.json")
    with pytest.raises(FlagError, match="cannot read flag manifest"):
        load_manifest(tmp_path / "none.json")


def test_flagset_resolves_names_through_the_builds_own_ids(registry: FlagRegistry) -> None:
    registry.enable("rlp", fleet(), "ops")
    on = registry.enabled_ids()
    assert FlagSet(FlagManifest("new", {"rlp": 8}), on).enabled("rlp") is True
    stale = FlagSet(FlagManifest("smars-2003", {"rlp": 1}), on)
    assert stale.enabled("rlp") is False  # id 8 on does not wake what the stale build calls rlp
    assert stale.on() == frozenset()
    with pytest.raises(FlagError, match="not in the manifest of build 'smars-2003'"):
        stale.enabled("power_peg")
