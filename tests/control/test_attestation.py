"""Attestation: the build digest is a hash of the installed package's files, stable across
machines (compiled caches left out) and changed by any edit, rename or new file."""

from __future__ import annotations

from pathlib import Path

import pytest

import interlock
from interlock.api.config import load_config, parse_config
from interlock.control.attestation import attest, installed_build_digest, mismatch, tree_digest
from interlock.control.plane import Release


def tree(root: Path, files: dict[str, bytes]) -> Path:
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


FILES = {"a.py": b"x = 1\n", "pkg/b.py": b"y = 2\n", "data/default.toml": b"k = 1\n"}


def test_digest_is_the_same_for_the_same_files_written_in_any_order(tmp_path: Path) -> None:
    one = tree(tmp_path / "one", FILES)
    two = tree(tmp_path / "two", dict(reversed(list(FILES.items()))))
    assert tree_digest(one) == tree_digest(two)
    assert len(tree_digest(one)) == 64


def test_compiled_caches_do_not_change_the_digest(tmp_path: Path) -> None:
    root = tree(tmp_path / "one", FILES)
    before = tree_digest(root)
    tree(root, {"__pycache__/a.cpython-311.pyc": b"\x00", "pkg/__pycache__/b.pyc": b"\x01"})
    tree(root, {"pkg/c.pyc": b"\x02"})
    assert tree_digest(root) == before


@pytest.mark.parametrize(
    "change",
    [
        {"a.py": b"x = 2\n"},  # an edit
        {"pkg/new.py": b""},  # a new, even empty, file
        {"data/other.toml": b"k = 1\n"},  # not only Python files count
    ],
)
def test_any_change_to_the_files_changes_the_digest(
    tmp_path: Path, change: dict[str, bytes]
) -> None:
    root = tree(tmp_path / "one", FILES)
    before = tree_digest(root)
    tree(root, change)
    assert tree_digest(root) != before


def test_a_rename_changes_the_digest(tmp_path: Path) -> None:
    root = tree(tmp_path / "one", FILES)
    before = tree_digest(root)
    (root / "a.py").rename(root / "z.py")
    assert tree_digest(root) != before


def test_installed_build_digest_hashes_the_imported_package() -> None:
    assert installed_build_digest() == tree_digest(Path(interlock.__file__).parent)


def test_attest_names_build_flags_config_host_and_pid() -> None:
    config = load_config()
    a = attest("gw-1", config.digest(), flag_digest="flags-1")
    assert (a.instance_id, a.build_digest, a.flag_digest, a.config_digest) == (
        "gw-1", installed_build_digest(), "flags-1", config.digest(),
    )  # fmt: skip
    assert a.host and a.pid > 0
    assert attest("gw-1", "c", build_digest="given").build_digest == "given"


def test_mismatch_says_which_digest_differs_and_empty_release_digests_approve_any() -> None:
    a = attest("gw-1", "c", build_digest="b1", flag_digest="f1")
    assert mismatch(Release("b1", "f1", 1), a) is None
    assert mismatch(Release("", "", 1), a) is None
    assert mismatch(Release("b2", "f1", 1), a) == "build b1 is not the released b2"
    assert mismatch(Release("b1", "f2", 1), a) == "flag manifest f1 is not the released f2"


def test_mismatch_names_another_config_in_short_form_and_an_empty_one_approves_any() -> None:
    a = attest("gw-1", "c" * 16, build_digest="b1", flag_digest="f1")
    assert mismatch(Release("b1", "f1", 1, config_digest="c" * 16), a) is None
    assert mismatch(Release("b1", "f1", 1, config_digest=""), a) is None
    assert mismatch(Release("b1", "f1", 1, config_digest="d" * 16), a) == (
        f"config {'c' * 12} is not the released {'d' * 12}"
    )


def test_the_attested_config_is_the_fleet_wide_one_the_same_on_every_instance() -> None:
    config = load_config()
    other = config.model_copy(update={"instance_id": "gw-2"})
    assert other.fleet_digest() == config.fleet_digest()
    assert other.digest() != config.digest()  # the file's digest names the instance
    data = config.model_dump(mode="json")
    data["limits"]["defaults"]["max_order_qty"] = 7
    assert parse_config(data).fleet_digest() != config.fleet_digest()
