"""Knight, 1 August 2012, with the flag registry on the control plane: the whole story.

The registry holds Power Peg (id 1, retired: a tombstone) and RLP under a name and id of
its own (2). The RLP build reads `flags.enabled("rlp")` and its manifest maps 'rlp' to 2.
Seven routers restart on it; the eighth comes back on the stale binary, a real source file
here, whose router still reads `flags.enabled("power_peg")` in front of Power Peg's
child-order loop and whose manifest takes 'rlp' to be the reused id 1. It is not attested;
the commit is refused naming it; switching 'rlp' on is refused naming it and what it maps
'rlp' to; the linter finds the retired read and the dead code by line; the release gate
refuses the old build; and it routes nothing, even with Power Peg woken.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from fleet_kit import submit

from interlock.control.deploy import Deployment
from interlock.control.flag_preflight import flag_preflight
from interlock.control.plane import Release
from interlock.domain.commands import OrderRequest
from interlock.domain.enums import Side
from interlock.domain.reject import RejectCode
from interlock.errors import DeployError, FlagError
from interlock.flags import (
    FindingCode,
    FlagManifest,
    FlagRegistry,
    FlagSet,
    lint,
    manifest_from_source,
)
from interlock.sim.fleet import InProcessFleet
from interlock.sim.harness import DESK_KEY, START_NS, ManualClock

PRE, NEW, OLD = "smars-2012.07.20", "smars-2012.07.27-rlp", "smars-2012.07.26-stale"
SEVEN = [f"gw-{i}" for i in range(1, 8)]
PARENTS = 212  # SEC ¶1: the retail parent orders that triggered it

NEW_ROUTER = '''\
"""SMARS router, RLP build: retail orders go to the Retail Liquidity Program when it is on."""


def route(parent, flags, send):
    if flags.enabled("rlp"):
        return send(parent, parent["quantity"], "RLP")
    return send(parent, parent["quantity"], "SMART")
'''

OLD_ROUTER = '''\
"""SMARS router, the stale binary: Power Peg (unused since 2003) is still callable."""


def route(parent, flags, send):
    if flags.enabled("power_peg"):
        # Power Peg: one child order after another. The cumulative-quantity check that
        # stopped it moved away in 2005, so nothing here hears of the parent's fills.
        for _ in range(parent["children"]):
            send(parent, 1, "POWER_PEG")
        return parent["children"]
    send(parent, parent["quantity"], "SMART")
    return 1
'''
STALE = FlagManifest(OLD, {"power_peg": 1, "rlp": 1})  # 'rlp' is the reused flag, it believes


def knight_registry() -> FlagRegistry:
    registry = FlagRegistry()
    registry.register("power_peg", 1, "Power Peg parent-order slicer", "smars")
    registry.retire("power_peg", {}, "release-eng")
    registry.register("rlp", 2, "Retail Liquidity Program routing", "smars")
    return registry


@dataclass
class Knight:
    fleet: InProcessFleet
    deploy: Deployment
    new_src: Path
    old_src: Path
    new: FlagManifest


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def line_of(text: str, snippet: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if snippet in line)


@pytest.fixture
def knight(tmp_path: Path) -> Knight:
    """Eight routers on the release before RLP; RLP proposed through the release gate;
    seven restarted on it, the eighth back up on the stale binary."""
    new_src = write(tmp_path / "rlp" / "smars" / "router.py", NEW_ROUTER)
    old_src = write(tmp_path / "stale" / "smars" / "router.py", OLD_ROUTER)
    clock = ManualClock(START_NS)
    f = InProcessFleet(8, clock=clock, build_digest=PRE, manifest=FlagManifest(PRE, {}),
                       flags=knight_registry())  # fmt: skip
    registry = f.plane.flag_registry()
    new = manifest_from_source([new_src.parent], NEW, registry)
    deploy = Deployment(f.plane, who="release-eng", clock=clock)
    gate = flag_preflight([new_src.parent], registry, NEW, new)
    deploy.propose(NEW, new.digest(), f.ids, preflight=gate)
    for i in SEVEN:
        f.restart(i, NEW, manifest=new)
    f.restart("gw-8", OLD, manifest=STALE)
    return Knight(f, deploy, new_src, old_src, new)


def load_router(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"router_{path.parent.parent.name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_new_build_reads_rlp_as_id_2_and_its_seven_routers_are_accepted(
    knight: Knight,
) -> None:
    assert knight.new == FlagManifest(NEW, {"rlp": 2})
    verdicts = {m.instance_id: m.flag_refusal for m in knight.fleet.plane.members()}
    assert [i for i, why in sorted(verdicts.items()) if why] == ["gw-8"]
    assert [r.instance_id for r in knight.deploy.readiness() if not r.ready] == ["gw-8"]


def test_the_stale_instance_cannot_join_naming_the_reason(knight: Knight) -> None:
    member = {m.instance_id: m for m in knight.fleet.plane.members()}["gw-8"]
    why = (
        f"flag manifest of build '{OLD}': reads retired flag 'power_peg' (id 1: Power Peg "
        "parent-order slicer, retired); maps 'rlp' to id 1 (power_peg); the registry has "
        "'rlp' as id 2"
    )
    assert member.flag_refusal == why
    refusal = knight.fleet["gw-8"].gate.check(knight.fleet.clock())
    assert refusal is not None and refusal.code is RejectCode.INSTANCE_NOT_ATTESTED
    assert refusal.reason == (
        f"instance gw-8 is not attested: build {OLD} is not the released {PRE}; {why}"
    )
    assert knight.fleet.status().rows[-1].state == "INSTANCE_NOT_ATTESTED"


def test_the_deploy_commit_fails_naming_the_stale_instance(knight: Knight) -> None:
    before = knight.fleet.plane.release()
    with pytest.raises(DeployError) as err:
        knight.deploy.commit()
    assert err.value.members == ("gw-8",)
    [problem] = err.value.problems
    assert problem.startswith(
        f"gw-8: attests build {OLD[:12]}, flags {STALE.digest()[:12]}, not the proposed build "
        f"{NEW[:12]}, flags {knight.new.digest()[:12]}, and the flag registry refuses it: "
        f"flag manifest of build '{OLD}': reads retired flag 'power_peg'"
    )
    assert knight.fleet.plane.release() == before


def test_enabling_rlp_is_refused_naming_the_stale_member_and_what_it_maps_rlp_to(
    knight: Knight,
) -> None:
    f = knight.fleet
    knight.deploy.abort("gw-8 came back on the stale binary")
    knight.deploy.propose(NEW, knight.new.digest(), SEVEN)
    config = f.config_digest
    assert knight.deploy.commit() == Release(NEW, knight.new.digest(), 2, tuple(SEVEN),
                                             config_digest=config)  # fmt: skip
    refused = (
        "cannot enable 'rlp' (id 2: Retail Liquidity Program routing): gw-8 maps 'rlp' to id 1 "
        "(power_peg)"
    )
    with pytest.raises(FlagError) as err:
        f.plane.enable_flag("rlp", "ops")
    assert str(err.value) == refused
    assert f.plane.flag_registry().enabled_ids() == frozenset()
    assert not any(f[i].flags.enabled("rlp") for i in f.ids)
    f.stop("gw-8")  # the operator takes the stale router out of the fleet
    f.plane.enable_flag("rlp", "ops")
    assert all(f[i].flags.enabled("rlp") for i in SEVEN)  # id 2, as their manifest says
    assert all(submit(f, i, n).accepted for n, i in enumerate(SEVEN))
    f.restart("gw-8", OLD, manifest=STALE)  # it cannot come back while 'rlp' is id 2
    stale = f["gw-8"]
    assert not stale.flags.enabled("rlp") and not stale.flags.enabled("power_peg")  # by id
    refusal = stale.gate.check(f.clock())
    assert refusal is not None and "maps 'rlp' to id 1 (power_peg)" in refusal.reason
    assert not submit(f, "gw-8", 99).accepted and f.sent("gw-8") == 0


def test_the_linter_finds_the_retired_read_and_the_dead_power_peg_code_by_line(
    knight: Knight,
) -> None:
    findings = lint([knight.old_src], knight.fleet.plane.flag_registry(), "plane")
    read = line_of(OLD_ROUTER, 'flags.enabled("power_peg")')
    first, last = line_of(OLD_ROUTER, "for _ in range"), line_of(OLD_ROUTER, "return parent[")
    by_code = {f.code: f for f in findings if f.path == str(knight.old_src)}
    assert set(by_code) == {FindingCode.FLAG_RETIRED_READ, FindingCode.FLAG_DEAD_CODE}
    assert by_code[FindingCode.FLAG_RETIRED_READ].line == read == 5
    dead = by_code[FindingCode.FLAG_DEAD_CODE]
    assert (dead.line, dead.end_line) == (first, last) == (8, 10)
    assert str(dead) == (
        f"{knight.old_src}:8: FLAG_DEAD_CODE: lines 8-10 can run only if retired flag "
        "'power_peg' were on, and a retired flag is never on again: remove the dead code"
    )
    assert lint([knight.new_src], knight.fleet.plane.flag_registry()) == []


def test_proposing_the_old_build_is_refused_by_the_release_gate(knight: Knight) -> None:
    knight.deploy.abort("gw-8 came back on the stale binary")
    registry = knight.fleet.plane.flag_registry()
    gate = flag_preflight([knight.old_src], registry, OLD, STALE, "plane")
    with pytest.raises(DeployError) as err:
        knight.deploy.propose(OLD, STALE.digest(), knight.fleet.ids, preflight=gate)
    problems = "\n".join(err.value.problems)
    for expected in (
        f"{knight.old_src}:5: FLAG_RETIRED_READ",
        f"{knight.old_src}:8: FLAG_DEAD_CODE",
        f"flag manifest of build '{OLD}': maps 'rlp' to id 1 (power_peg)",
        f"flag manifest of build '{OLD}': reads retired flag 'power_peg'",
        f"the flag manifest shipped (build '{OLD}' reads 'power_peg' -> 1, 'rlp' -> 1) is not "
        f"the one the source makes (build '{OLD}' reads 'power_peg' -> 1)",
    ):
        assert expected in problems
    assert knight.fleet.plane.proposal() is None


def test_the_stale_instance_routes_zero_orders_even_with_power_peg_woken(
    knight: Knight,
) -> None:
    f = knight.fleet
    stale = f["gw-8"]
    router = load_router(knight.old_src)
    codes: set[RejectCode | None] = set()
    n = 0

    def send(parent: dict[str, Any], qty: int, tag: str) -> None:
        nonlocal n
        n += 1
        request = OrderRequest(f"{tag}-{parent['id']}-{n}", "desk-7", "smars", "AAPL",
                               Side.BUY, qty, limit_price=Decimal("100.00"))  # fmt: skip
        codes.add(stale.submit(request, DESK_KEY).code)

    parents = [{"id": p, "quantity": 100, "children": 5} for p in range(PARENTS)]
    # Its own flags come from the plane by id: id 1 is a tombstone, so Power Peg stays off.
    assert not stale.flags.enabled("power_peg")
    assert sum(router.route(p, stale.flags, send) for p in parents) == PARENTS
    # 2012: the reused bit switched on, as the stale build understood it. Power Peg wakes,
    # and every child order meets the fleet gate.
    woken = FlagSet(STALE, {1})
    assert woken.enabled("power_peg") and woken.enabled("rlp")
    assert sum(router.route(p, woken, send) for p in parents) == 5 * PARENTS
    f.instances["gw-8"].journal.flush()
    assert n == 6 * PARENTS
    assert codes == {RejectCode.INSTANCE_NOT_ATTESTED}
    assert f.sent("gw-8") == 0  # the venue received nothing from it
