"""DESIGN.md invariant 6, by Hypothesis: the real registry beside a tiny model of its rules.

Rules register, retire, enable and disable flags drawn from small pools (so names and ids
collide often), and members join and leave a fleet. A member joins only if its manifest
passes `check` (the gate the control plane applies), as in production. After every step:
a name was never bound to two (id, meaning) pairs, nor an id to two names, over the whole
history; every enabled flag is declared under its id by every live member; a retire is
allowed only while no live member reads the flag, so no gated member reads a tombstone;
and folding the history (and a save/load round trip) gives back the same registry.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from knight_flags import ticking_clock

from interlock.errors import FlagError
from interlock.flags import (
    FlagManifest,
    FlagRegistered,
    FlagRegistry,
    load_registry,
    save_registry,
)

NAMES = st.sampled_from(["power_peg", "rlp", "sweep", "mm"])
IDS = st.sampled_from([1, 2, 8])
MEANINGS = st.sampled_from(["Power Peg", "Retail Liquidity Program"])
OWNERS = st.sampled_from(["smars", "desk-7"])
MEMBER_NAMES = [f"gw-{i}" for i in range(1, 5)]
MEMBERS = st.sampled_from(MEMBER_NAMES)
READS = st.dictionaries(NAMES, IDS, max_size=3)


class FlagRegistryMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.registry = FlagRegistry(ticking_clock())
        self.identity: dict[str, tuple[int, str, str]] = {}  # the model: first binding
        self.retired: set[str] = set()
        self.enabled: set[str] = set()
        self.fleet: dict[str, FlagManifest] = {}
        self.ungated: set[str] = set()  # members that joined without the gate's check

    @rule(name=NAMES, flag_id=IDS, meaning=MEANINGS, owner=OWNERS)
    def register(self, name: str, flag_id: int, meaning: str, owner: str) -> None:
        bound = self.identity.get(name)
        taken = any(i == flag_id and n != name for n, (i, _, _) in self.identity.items())
        expect_ok = (
            name not in self.retired and bound == (flag_id, meaning, owner)
            if bound is not None
            else not taken
        )
        assert self._attempt(lambda: self.registry.register(name, flag_id, meaning, owner)) == (
            expect_ok
        )
        if expect_ok:
            self.identity[name] = (flag_id, meaning, owner)

    @rule(name=NAMES)
    def retire(self, name: str) -> None:
        bound = self.identity.get(name)
        read = bound is not None and any(
            name in m.reads or bound[0] in m.reads.values() for m in self.fleet.values()
        )
        expect_ok = bound is not None and (
            name in self.retired or (name not in self.enabled and not read)
        )
        assert self._attempt(lambda: self.registry.retire(name, self.fleet, "ops")) == expect_ok
        if bound is not None and read and name not in self.retired:
            event("retire refused: a live member reads it")
        if expect_ok:
            self.retired.add(name)

    @rule(data=st.data())
    def enable(self, data: st.DataObject) -> None:
        name = data.draw(st.sampled_from(sorted(self.identity)) if self.identity else NAMES)
        expect_ok = (
            name in self.identity
            and name not in self.retired
            and bool(self.fleet)
            and all(self._declares(m.reads, name) for m in self.fleet.values())
        )
        assert self._attempt(lambda: self.registry.enable(name, self.fleet, "ops")) == expect_ok
        if expect_ok:
            event("enabled with live members")
            self.enabled.add(name)

    @rule(name=NAMES)
    def disable(self, name: str) -> None:
        assert self._attempt(lambda: self.registry.disable(name, "ops")) == (name in self.identity)
        self.enabled.discard(name)

    @rule(member=MEMBERS, data=st.data())
    def join(self, member: str, data: st.DataObject) -> None:
        """A build reading some active flags under their ids, perhaps with stray beliefs."""
        active = sorted(n for n in self.identity if n not in self.retired)
        every = data.draw(st.booleans()) or not active  # the current build reads them all
        names = active if every else data.draw(st.lists(st.sampled_from(active), unique=True))
        reads = {n: self.identity[n][0] for n in names}
        if data.draw(st.booleans()):
            reads.update(data.draw(READS))  # a stale or confused build
        manifest = FlagManifest(f"build-{sorted(reads.items())}", reads)
        if not manifest.check(self.registry):  # the fleet gate: refused builds never join
            event("joined")
            self.fleet[member] = manifest
            self.ungated.discard(member)

    @rule(member=MEMBERS, stray=READS)
    def slip_past_the_gate(self, member: str, stray: dict[str, int]) -> None:
        """A member the fleet gate never checked: enable's own preflight must still hold."""
        reads = {n: i for n, (i, _, _) in self.identity.items() if n not in self.retired}
        self.fleet[member] = FlagManifest("unchecked", {**reads, **stray})
        self.ungated.add(member)

    @rule()
    def deploy(self) -> None:
        """Every member restarts on one build that reads every active flag under its id."""
        active = {n: i for n, (i, _, _) in self.identity.items() if n not in self.retired}
        manifest = FlagManifest("current", active)
        assert manifest.check(self.registry) == []
        self.fleet = dict.fromkeys(MEMBER_NAMES, manifest)
        self.ungated.clear()

    @rule(member=MEMBERS)
    def leave(self, member: str) -> None:
        self.fleet.pop(member, None)
        self.ungated.discard(member)

    @invariant()
    def a_name_or_id_is_bound_once_over_the_whole_history(self) -> None:
        registered = [e for e in self.registry.history if isinstance(e, FlagRegistered)]
        assert len({e.name for e in registered}) == len(registered)
        assert len({e.flag_id for e in registered}) == len(registered)
        for e in registered:
            assert self.identity[e.name] == (e.flag_id, e.meaning, e.owner)

    @invariant()
    def every_enabled_flag_is_declared_by_every_gated_member(self) -> None:
        enabled = {f.name for f in self.registry.flags() if f.enabled}
        assert enabled == self.enabled
        gated = [m for member, m in self.fleet.items() if member not in self.ungated]
        for name in enabled:
            assert all(self._declares(m.reads, name) for m in gated)

    @invariant()
    def no_gated_member_reads_a_tombstone(self) -> None:
        """A retire never strands a live member, and a build reading a tombstone never joins."""
        gated = {member: m for member, m in self.fleet.items() if member not in self.ungated}
        for name in self.retired:
            assert self.registry.readers(name, gated) == {}

    @invariant()
    def retired_flags_stay_tombstones(self) -> None:
        assert {f.name for f in self.registry.flags() if f.retired} == self.retired

    @invariant()
    def history_folds_back_to_the_same_registry(self) -> None:
        rebuilt = FlagRegistry.from_history(self.registry.history)
        assert rebuilt.flags() == self.registry.flags()

    def teardown(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "flags.json"
            save_registry(self.registry, path)
            loaded = load_registry(path)
        assert loaded.flags() == self.registry.flags()
        assert loaded.history == self.registry.history

    def _declares(self, reads: Mapping[str, int], name: str) -> bool:
        """The model's preflight: this name under its id, and no other name under that id."""
        flag_id = self.identity[name][0]
        others = [i for n, i in reads.items() if n != name]
        return reads.get(name) == flag_id and flag_id not in others

    @staticmethod
    def _attempt(change: Callable[[], object]) -> bool:
        try:
            change()
        except FlagError:
            return False
        return True


FlagRegistryMachine.TestCase.settings = settings(
    max_examples=200, stateful_step_count=50, deadline=None, derandomize=True
)
test_flag_registry_invariant_6 = FlagRegistryMachine.TestCase
