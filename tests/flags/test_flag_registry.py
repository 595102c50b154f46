"""Flag identity rules, tombstones, the enable preflight and the event history."""

from __future__ import annotations

import pytest
from knight_flags import fleet, knight_registry, ticking_clock

from interlock.errors import FlagError, InterlockError
from interlock.flags import (
    FlagDisabled,
    FlagEnabled,
    FlagManifest,
    FlagRegistered,
    FlagRegistry,
    FlagRetired,
)


def test_flag_error_is_an_interlock_error_with_a_stable_code() -> None:
    assert issubclass(FlagError, InterlockError)
    assert FlagError.code == "FLAG_REFUSED"


def test_register_binds_name_id_meaning_owner_and_created(registry: FlagRegistry) -> None:
    flag = registry.get("rlp")
    assert flag is not None
    assert (flag.name, flag.flag_id, flag.meaning, flag.owner) == (
        "rlp", 8, "Retail Liquidity Program routing", "smars",
    )  # fmt: skip
    assert flag.created > 0
    assert not flag.retired and not flag.enabled
    assert registry.by_id(8) == flag
    assert [f.name for f in registry.flags()] == ["power_peg", "rlp"]


def test_register_the_same_identity_again_is_idempotent(registry: FlagRegistry) -> None:
    before = registry.history
    again = registry.register("rlp", 8, "Retail Liquidity Program routing", "smars")
    assert again == registry.get("rlp")
    assert registry.history == before


def test_register_the_retired_power_peg_name_is_refused_as_a_tombstone(
    registry: FlagRegistry,
) -> None:
    with pytest.raises(FlagError, match=r"'power_peg'.*tombstone.*never reused"):
        registry.register("power_peg", 1, "Power Peg parent-order slicer (unused since 2003)",
                          "smars")  # fmt: skip
    with pytest.raises(FlagError, match="tombstone"):
        registry.register("power_peg", 9, "Retail Liquidity Program routing", "smars")


def test_register_rlp_under_power_pegs_id_is_refused_naming_the_holder() -> None:
    registry = FlagRegistry(ticking_clock())
    registry.register("power_peg", 1, "Power Peg", "smars")
    registry.retire("power_peg", {}, "release-eng")
    with pytest.raises(FlagError) as refused:
        registry.register("rlp", 1, "Retail Liquidity Program routing", "smars")
    message = str(refused.value)
    assert "'rlp'" in message and "id 1 already belongs to 'power_peg'" in message
    assert "never reused" in message
    assert registry.get("rlp") is None


def test_register_an_active_id_under_a_new_name_is_refused(registry: FlagRegistry) -> None:
    with pytest.raises(FlagError, match="id 8 already belongs to 'rlp'"):
        registry.register("rlp_v2", 8, "Retail Liquidity Program routing", "smars")


@pytest.mark.parametrize(
    ("flag_id", "meaning", "owner"),
    [
        (9, "Retail Liquidity Program routing", "smars"),
        (8, "Power Peg", "smars"),
        (8, "Retail Liquidity Program routing", "someone-else"),
    ],
)
def test_register_an_existing_name_with_another_identity_is_refused(
    registry: FlagRegistry, flag_id: int, meaning: str, owner: str
) -> None:
    with pytest.raises(FlagError, match=r"cannot register 'rlp'.*identity never changes"):
        registry.register("rlp", flag_id, meaning, owner)
    assert registry.get("rlp") == knight_registry().get("rlp")


@pytest.mark.parametrize(
    ("name", "flag_id", "meaning", "owner", "why"),
    [
        ("RLP", 9, "m", "o", "flag name"),
        ("", 9, "m", "o", "flag name"),
        ("has space", 9, "m", "o", "flag name"),
        ("ok", 0, "m", "o", "positive integer"),
        ("ok", True, "m", "o", "positive integer"),
        ("ok", 9, " ", "o", "meaning"),
        ("ok", 9, "m", "", "owner"),
    ],
)
def test_register_rejects_malformed_identities(
    name: str, flag_id: int, meaning: str, owner: str, why: str
) -> None:
    with pytest.raises(FlagError, match=why):
        FlagRegistry().register(name, flag_id, meaning, owner)


def test_retire_leaves_a_tombstone_with_when_and_who(registry: FlagRegistry) -> None:
    peg = registry.get("power_peg")
    assert peg is not None and peg.retired
    assert peg.retired_by == "release-eng" and peg.retired_at is not None
    assert registry.retire("power_peg", {}, "someone") == peg  # retiring twice changes nothing


def test_retire_an_enabled_flag_is_refused_until_disabled(registry: FlagRegistry) -> None:
    registry.enable("rlp", fleet(), "ops")
    with pytest.raises(FlagError, match="it is enabled; disable it first"):
        registry.retire("rlp", {}, "ops")
    registry.disable("rlp", "ops")
    assert registry.retire("rlp", {}, "ops").retired


def test_retire_while_a_live_manifest_reads_it_is_refused_and_records_nothing(
    registry: FlagRegistry,
) -> None:
    before = registry.history
    live = {**fleet(), "gw-9": FlagManifest("other", {"rlp_v0": 8})}
    with pytest.raises(FlagError) as refused:
        registry.retire("rlp", live, "ops")
    assert str(refused.value).endswith(
        "9 live member(s) still read it: gw-1, gw-2, gw-3, gw-4, gw-5, gw-6, gw-7, gw-8 read "
        "'rlp' as id 8; gw-9 reads 'rlp_v0' as id 8; retire it once no live member's build "
        "reads it"
    )
    assert registry.history == before and not registry.get("rlp").retired  # type: ignore[union-attr]
    assert registry.retire("rlp", {"gw-9": FlagManifest("none", {})}, "ops").retired


def test_enable_with_eight_agreeing_members_switches_the_flag_on(registry: FlagRegistry) -> None:
    flag = registry.enable("rlp", fleet(), "ops")
    assert flag.enabled
    assert registry.enabled_ids() == {8}
    event = registry.history[-1]
    assert isinstance(event, FlagEnabled)
    assert event.members == tuple(f"gw-{i}" for i in range(1, 9))
    assert (event.name, event.flag_id, event.who) == ("rlp", 8, "ops")


def test_enable_is_refused_when_the_stale_server_maps_rlp_to_power_pegs_id(
    registry: FlagRegistry,
) -> None:
    stale = FlagManifest("smars-2003", {"rlp": 1})
    with pytest.raises(FlagError) as refused:
        registry.enable("rlp", fleet(stale), "ops")
    message = str(refused.value)
    assert message.startswith("cannot enable 'rlp' (id 8: Retail Liquidity Program routing)")
    assert "gw-8 maps 'rlp' to id 1 (power_peg)" in message
    assert "gw-1" not in message  # only the member that disagrees is named
    assert not registry.get("rlp").enabled  # type: ignore[union-attr]
    assert registry.enabled_ids() == frozenset()


def test_enable_names_every_member_that_does_not_declare_the_flag(
    registry: FlagRegistry,
) -> None:
    members = fleet(FlagManifest("smars-2003", {"power_peg": 1}))
    members["gw-3"] = FlagManifest("smars-other", {"rlp": 77})
    with pytest.raises(FlagError) as refused:
        registry.enable("rlp", members, "ops")
    message = str(refused.value)
    assert "gw-3 maps 'rlp' to id 77 (unknown id)" in message
    assert "gw-8 does not declare 'rlp'" in message


def test_enable_is_refused_when_a_member_reads_another_name_under_the_flags_id(
    registry: FlagRegistry,
) -> None:
    members = fleet(FlagManifest("smars-mixed", {"rlp": 8, "power_peg": 8}))
    with pytest.raises(FlagError, match="gw-8 maps 'power_peg' to id 8, which is 'rlp'"):
        registry.enable("rlp", members, "ops")


def test_enable_is_refused_for_a_retired_unknown_or_unchecked_flag(
    registry: FlagRegistry,
) -> None:
    with pytest.raises(FlagError, match="retired by release-eng"):
        registry.enable("power_peg", fleet(FlagManifest("old", {"power_peg": 1})), "ops")
    with pytest.raises(FlagError, match="no such flag"):
        registry.enable("nope", fleet(), "ops")
    with pytest.raises(FlagError, match="no live member manifests"):
        registry.enable("rlp", {}, "ops")
    with pytest.raises(FlagError, match="who"):
        registry.enable("rlp", fleet(), " ")


def test_enable_twice_and_disable_twice_record_one_event_each(registry: FlagRegistry) -> None:
    start = len(registry.history)
    registry.enable("rlp", fleet(), "ops")
    registry.enable("rlp", fleet(), "ops")
    registry.disable("rlp", "ops")
    registry.disable("rlp", "ops")
    kinds = [type(e) for e in registry.history[start:]]
    assert kinds == [FlagEnabled, FlagDisabled]
    assert not registry.get("rlp").enabled  # type: ignore[union-attr]


def test_history_records_every_change_and_folds_back_to_the_same_state(
    registry: FlagRegistry,
) -> None:
    registry.enable("rlp", fleet(), "ops")
    assert [type(e) for e in registry.history] == [
        FlagRegistered, FlagRetired, FlagRegistered, FlagEnabled,
    ]  # fmt: skip
    rebuilt = FlagRegistry.from_history(registry.history)
    assert rebuilt.flags() == registry.flags()
    assert rebuilt.history == registry.history


def test_from_history_refuses_a_history_that_reuses_a_name() -> None:
    first = FlagRegistered(1, "power_peg", 1, "Power Peg", "smars")
    reuse = FlagRegistered(2, "power_peg", 8, "Retail Liquidity Program", "smars")
    with pytest.raises(FlagError, match="inconsistent flag history"):
        FlagRegistry.from_history([first, FlagRetired(2, "power_peg", "x"), reuse])
    with pytest.raises(FlagError, match="not an active flag"):
        FlagRegistry.from_history([first, FlagRetired(2, "power_peg", "x"),
                                   FlagEnabled(3, "power_peg", 1, "x", ("gw-1",))])  # fmt: skip
