"""The release-gate linter on small router modules written into tmp_path."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from interlock.errors import FlagError
from interlock.flags import Finding, FindingCode, FlagRegistry, lint, manifest_from_source

OLD_ROUTER = '''\
"""SMARS order router as the stale server still ran it."""
from smars import flags, send, slices


def route(parent):
    if flags.enabled("power_peg"):
        for child in slices(parent):
            send(child)
    send(parent)


def route_retail(order):
    if not flags.enabled("power_peg"):
        send(order)
    else:
        slices(order)
        send(order)


def route_both(order):
    if flags.enabled("power_peg") and order.qty > 0:
        send(order)
    if flags.enabled("power_peg") or order.urgent:
        send(order)
'''

NEW_ROUTER = '''\
"""SMARS order router with RLP."""
from smars import flags, send


def route(order):
    if flags.enabled("rlp"):
        send(order.to_rlp())
    else:
        send(order)
    settings.enabled()  # not a flag read: no argument
    config.enabled("a", "b")  # not a flag read: two arguments
'''

ODD_ROUTER = """\
from smars import flags

name = "rlp"


def route(order):
    if flags.enabled("rlp_v2"):
        return 1
    if flags.enabled(name):
        return 2
    return flags.enabled(f"r{order.kind}")
"""


def write(root: Path, name: str, text: str) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def lines(findings: list[Finding]) -> list[str]:
    return [str(f) for f in findings]


def test_old_router_reading_retired_power_peg_is_flagged_with_its_dead_lines(
    tmp_path: Path, registry: FlagRegistry
) -> None:
    old = write(tmp_path, "old_router.py", OLD_ROUTER)
    new = write(tmp_path, "new_router.py", NEW_ROUTER)
    findings = lint([old, new], registry)
    by_code = {(f.code, f.line, f.end_line) for f in findings}
    assert by_code == {
        (FindingCode.FLAG_RETIRED_READ, 6, 0),
        (FindingCode.FLAG_DEAD_CODE, 7, 8),  # the Power Peg loop under `if enabled(...)`
        (FindingCode.FLAG_RETIRED_READ, 13, 0),
        (FindingCode.FLAG_DEAD_CODE, 16, 17),  # the else of `if not enabled(...)`
        (FindingCode.FLAG_RETIRED_READ, 21, 0),
        (FindingCode.FLAG_DEAD_CODE, 22, 22),  # `enabled(...) and ...`: never true
        (FindingCode.FLAG_RETIRED_READ, 23, 0),  # `... or urgent` may run: no dead code
    }
    first = lines(findings)[:2]
    assert first == [
        f"{old}:6: FLAG_RETIRED_READ: reads retired flag 'power_peg' (id 1: Power Peg "
        "parent-order slicer (unused since 2003), retired): a retired flag is never on again",
        f"{old}:7: FLAG_DEAD_CODE: lines 7-8 can run only if retired flag 'power_peg' were "
        "on, and a retired flag is never on again: remove the dead code",
    ]
    assert all(f.path == str(old) for f in findings)


def test_unknown_and_dynamic_reads_are_reported(tmp_path: Path, registry: FlagRegistry) -> None:
    odd = write(tmp_path, "odd_router.py", ODD_ROUTER)
    new = write(tmp_path, "new_router.py", NEW_ROUTER)
    assert lines(lint([odd, new], registry)) == [
        f"{odd}:7: FLAG_UNKNOWN: reads flag 'rlp_v2', which is not in the flag registry",
        f"{odd}:9: FLAG_DYNAMIC: reads a flag named by `name`, not a string literal: which "
        "flag it reads cannot be verified",
        f"{odd}:11: FLAG_DYNAMIC: reads a flag named by `f'r{{order.kind}}'`, not a string "
        "literal: which flag it reads cannot be verified",
    ]


def test_a_registered_flag_no_code_reads_is_reported_against_the_registry(
    tmp_path: Path, registry: FlagRegistry
) -> None:
    registry.register("odd_lot_sweep", 9, "Sweep odd lots before the open", "desk-7")
    new = write(tmp_path, "new_router.py", NEW_ROUTER)
    assert lines(lint([new], registry, "flags.json")) == [
        "flags.json: FLAG_UNREAD: flag 'odd_lot_sweep' (id 9: Sweep odd lots before the "
        "open) is active but no code reads it: retire it"
    ]


def test_clean_source_has_no_findings_and_retired_unread_flags_are_fine(
    tmp_path: Path, registry: FlagRegistry
) -> None:
    write(tmp_path, "pkg/new_router.py", NEW_ROUTER)
    write(tmp_path, "pkg/__pycache__/old_router.py", OLD_ROUTER)  # skipped
    write(tmp_path, "pkg/.venv/old_router.py", OLD_ROUTER)  # skipped
    assert lint([tmp_path], registry) == []


def test_a_file_that_does_not_parse_is_a_finding(tmp_path: Path, registry: FlagRegistry) -> None:
    broken = write(tmp_path, "broken.py", "def route(:\n")
    write(tmp_path, "new_router.py", NEW_ROUTER)
    findings = lint([tmp_path], registry)
    assert [(f.path, f.code, f.line) for f in findings] == [
        (str(broken), FindingCode.FLAG_UNPARSABLE, 1)
    ]


def test_a_missing_path_is_refused(tmp_path: Path, registry: FlagRegistry) -> None:
    with pytest.raises(FlagError, match="no such file or directory"):
        lint([tmp_path / "nope"], registry)


def test_manifest_from_source_maps_each_read_to_the_registry_id(
    tmp_path: Path, registry: FlagRegistry
) -> None:
    new = write(tmp_path, "new/router.py", NEW_ROUTER)
    old = write(tmp_path, "old/router.py", OLD_ROUTER)
    assert dict(manifest_from_source([new], "smars-new", registry).reads) == {"rlp": 8}
    stale = manifest_from_source([old.parent], "smars-2003", registry)
    assert dict(stale.reads) == {"power_peg": 1}
    assert stale.check(registry) == [
        "reads retired flag 'power_peg' (id 1: Power Peg parent-order slicer (unused since "
        "2003), retired)"
    ]


def test_manifest_from_source_refuses_reads_it_cannot_map(
    tmp_path: Path, registry: FlagRegistry
) -> None:
    odd = write(tmp_path, "odd_router.py", ODD_ROUTER)
    with pytest.raises(FlagError) as refused:
        manifest_from_source([odd], "smars-odd", registry)
    message = str(refused.value)
    assert f"{odd}:7: unknown flag 'rlp_v2'" in message
    assert f"{odd}:9: dynamic flag read `name`" in message
