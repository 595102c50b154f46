"""`interlock flags list|register|retire|enable|disable` against a running fleet's plane,
through a real admin listener: enable is judged on every live member's manifest, which
the operator never passes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from admin_rig import READER, Rig, running_fleet

from interlock.flags import FlagManifest, FlagRegistry

RLP = ["--id", "2", "--meaning", "Retail Liquidity Program", "--owner", "smars"]


def knight_registry() -> FlagRegistry:
    registry = FlagRegistry()
    registry.register("power_peg", 1, "Power Peg", "smars")
    registry.retire("power_peg", {}, "release-eng")
    registry.register("rlp", 2, "Retail Liquidity Program", "smars")
    return registry


@pytest.fixture
def rig() -> Iterator[Rig]:
    """Three members whose build reads 'rlp' as id 2: the registry's own identity."""
    yield from running_fleet(manifest=FlagManifest("b1", {"rlp": 2}), flags=knight_registry())


def test_enable_is_refused_naming_the_live_member_that_does_not_declare_the_flag(
    rig: Rig,
) -> None:
    rig.restart(["gw-3"], "b0-old", FlagManifest("b0-old", {}))  # live, reads no 'rlp'
    code, out = rig.cli("flags", "enable", "rlp")
    assert code == 1, out
    assert out.startswith("FLAG_REFUSED: cannot enable 'rlp' (id 2: Retail Liquidity")
    assert "gw-3" in out and "gw-1" not in out and "gw-2" not in out
    assert not rig.fleet.plane.flag_registry().get("rlp").enabled

    rig.restart(["gw-3"], "b1", FlagManifest("b1", {"rlp": 2}))
    code, out = rig.cli("flags", "enable", "rlp")
    assert code == 0, out
    assert "enabled: 'rlp' (id 2: Retail Liquidity Program) (3 live member(s) declare it)" in out
    assert rig.fleet["gw-2"].flags.enabled("rlp")


def test_list_shows_the_planes_flags_with_their_state(rig: Rig) -> None:
    code, out = rig.cli("flags", "list")
    assert code == 0, out
    assert "the fleet's registry: 2 flag(s)" in out
    (peg,) = [line for line in out.splitlines() if "power_peg" in line]
    assert "retired" in peg and "by release-eng" in peg
    (rlp,) = [line for line in out.splitlines() if " rlp " in line]
    assert rlp.rstrip().endswith("off")


def test_register_retire_disable_act_on_the_plane_and_refusals_exit_1(rig: Rig) -> None:
    code, out = rig.cli("flags", "register", "mm_quotes", "--id", "3", "--meaning", "MM quotes",
                        "--owner", "mm")  # fmt: skip
    assert code == 0 and "registered: 'mm_quotes' (id 3: MM quotes)" in out, out
    code, out = rig.cli("flags", "register", "mm_quotes", "--id", "3", "--meaning", "MM quotes",
                        "--owner", "mm")  # fmt: skip
    assert code == 0 and "unchanged, already so" in out, out
    code, out = rig.cli("flags", "register", "power_peg", *RLP)
    assert code == 1 and out.startswith("FLAG_REFUSED: ") and "power_peg" in out, out
    code, out = rig.cli("flags", "disable", "rlp")
    assert code == 0 and "unchanged, already so" in out, out
    code, out = rig.cli("flags", "retire", "mm_quotes")
    assert code == 0 and "retired: 'mm_quotes' (id 3: MM quotes, retired)" in out, out
    assert rig.fleet.plane.flag_registry().get("mm_quotes").retired_by == "ops-alice"
    code, out = rig.cli("flags", "retire", "no/such?flag")
    assert code == 1 and out.startswith("FLAG_REFUSED: ") and "no/such?flag" in out, out


def test_a_reader_token_may_list_but_not_register_retire_enable_or_disable(rig: Rig) -> None:
    assert rig.cli("flags", "list", token=READER)[0] == 0
    for args in (["register", "x", *RLP], ["retire", "rlp"], ["enable", "rlp"],
                 ["disable", "rlp"]):  # fmt: skip
        code, out = rig.cli("flags", *args, token=READER)
        assert code == 1 and "UNAUTHENTICATED: role reader may not operate" in out, args
    registry = rig.fleet.plane.flag_registry()
    assert not registry.get("rlp").enabled and not registry.get("rlp").retired


def test_a_wrong_token_is_refused(rig: Rig) -> None:
    code, out = rig.cli("flags", "enable", "rlp", token="guess")
    assert code == 1 and "UNAUTHENTICATED: credential not recognised" in out
    assert not rig.fleet.plane.flag_registry().get("rlp").enabled
