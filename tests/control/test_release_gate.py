"""The flag release gate in front of `Deployment.propose`: the linter over the build's
source, the proposed manifest checked against the registry, and the proposal's flag digest
equal to the digest of the manifest the source itself makes."""

from __future__ import annotations

from pathlib import Path

import pytest
from plane_backends import Backend

from interlock.control.deploy import Deployment
from interlock.control.flag_preflight import flag_preflight
from interlock.control.plane import Proposal
from interlock.errors import DeployError
from interlock.flags import FlagManifest, FlagRegistry

NEW_SOURCE = """\
def route(parent, flags, send):
    if flags.enabled("rlp"):
        return send(parent, "retail liquidity program")
    return send(parent, "default")
"""


def registry() -> FlagRegistry:
    r = FlagRegistry()
    r.register("power_peg", 1, "Power Peg", "smars")
    r.retire("power_peg", {}, "release-eng")
    r.register("rlp", 2, "Retail Liquidity Program", "smars")
    return r


def source(tmp_path: Path, text: str = NEW_SOURCE, name: str = "router.py") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def proposal(flag_digest: str) -> Proposal:
    return Proposal("b2", flag_digest, ("gw-1",), 1, "ops", 0)


def test_a_clean_source_with_its_own_manifest_passes(tmp_path: Path) -> None:
    gate = flag_preflight([source(tmp_path)], registry(), "b2")
    manifest = FlagManifest("b2", {"rlp": 2})
    assert list(gate(proposal(manifest.digest()))) == []
    shipped = flag_preflight([source(tmp_path)], registry(), "b2", manifest)
    assert list(shipped(proposal(manifest.digest()))) == []


def test_a_proposal_naming_another_flag_digest_is_refused(tmp_path: Path) -> None:
    gate = flag_preflight([source(tmp_path)], registry(), "b2")
    [finding] = gate(proposal("flags-typed-by-hand"))
    assert finding == (
        "the proposal's flag digest flags-typed- is not the digest "
        f"{FlagManifest('b2', {'rlp': 2}).digest()[:12]} of the flag manifest of build 'b2'"
    )


def test_a_shipped_manifest_that_is_not_the_source_s_is_refused(tmp_path: Path) -> None:
    shipped = FlagManifest("b2", {"rlp": 2, "sweep": 3})
    gate = flag_preflight([source(tmp_path)], registry(), "b2", shipped)
    findings = list(gate(proposal(shipped.digest())))
    assert findings == [
        "flag manifest of build 'b2': reads unknown flag 'sweep' as id 3",
        "the flag manifest shipped (build 'b2' reads 'rlp' -> 2, 'sweep' -> 3) is not the one "
        "the source makes (build 'b2' reads 'rlp' -> 2)",
    ]


def test_source_reading_a_retired_flag_fails_lint_check_and_manifest(tmp_path: Path) -> None:
    old = source(tmp_path, 'def route(flags):\n    if flags.enabled("power_peg"):\n'
                 '        return "peg"\n    return "default"\n')  # fmt: skip
    made = FlagManifest("old", {"power_peg": 1})
    gate = flag_preflight([old], registry(), "old")
    findings = list(gate(proposal(made.digest())))
    assert findings[:3] == [
        f"{old}:2: FLAG_RETIRED_READ: reads retired flag 'power_peg' (id 1: Power Peg, "
        "retired): a retired flag is never on again",
        f"{old}:3: FLAG_DEAD_CODE: line 3 can run only if retired flag 'power_peg' were on, "
        "and a retired flag is never on again: remove the dead code",
        "flag registry: FLAG_UNREAD: flag 'rlp' (id 2: Retail Liquidity Program) is active but "
        "no code reads it: retire it",
    ]
    assert findings[3:] == [
        "flag manifest of build 'old': reads retired flag 'power_peg' (id 1: Power Peg, retired)"
    ]


def test_source_whose_manifest_cannot_be_made_is_refused_saying_why(tmp_path: Path) -> None:
    bad = source(tmp_path, "def route(flags, name):\n    return flags.enabled(name)\n")
    findings = [str(f) for f in flag_preflight([bad], registry(), "b2")(proposal(""))]
    assert any("FLAG_DYNAMIC" in f for f in findings)
    assert findings[-1] == (
        f"cannot make the flag manifest of build 'b2': {bad}:2: dynamic flag read `name`"
    )


def test_propose_runs_the_gate_and_a_finding_refuses_it(backend: Backend, tmp_path: Path) -> None:
    d = Deployment(backend.plane, who="ops", clock=backend.now)
    gate = flag_preflight([source(tmp_path)], registry(), "b2")
    with pytest.raises(DeployError) as err:
        d.propose("b2", "wrong", ("gw-1",), preflight=gate)
    assert err.value.problems[0].startswith("release gate: the proposal's flag digest wrong")
    assert backend.plane.proposal() is None
    good = d.propose("b2", FlagManifest("b2", {"rlp": 2}).digest(), ("gw-1",), preflight=gate)
    assert backend.plane.proposal() == good


def test_a_flag_live_members_still_read_is_not_unread_so_a_build_dropping_it_passes(
    tmp_path: Path,
) -> None:
    """Retiring Power Peg is refused while the old routers read it, so the build that drops
    it must pass the gate first; with nobody live reading it, it is unread again."""
    r = FlagRegistry()
    r.register("power_peg", 1, "Power Peg", "smars")
    r.register("rlp", 2, "Retail Liquidity Program", "smars")
    made = FlagManifest("b2", {"rlp": 2})
    live = {"gw-1": FlagManifest("old", {"power_peg": 1}), "gw-2": made}
    gate = flag_preflight([source(tmp_path)], r, "b2", live_manifests=live)
    assert list(gate(proposal(made.digest()))) == []
    offline = flag_preflight([source(tmp_path)], r, "b2", live_manifests={"gw-2": made})
    assert list(offline(proposal(made.digest()))) == [
        "flag registry: FLAG_UNREAD: flag 'power_peg' (id 1: Power Peg) is active but no code "
        "reads it: retire it"
    ]
