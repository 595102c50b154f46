"""DESIGN.md invariant 6 at the fleet level, by Hypothesis: real gateways on one embedded
control plane, a manual clock, and the plane's own records as the ground truth.

Rules: instances join (restart) on builds whose manifests are drawn from small pools (so
they often disagree with the registry: retired reads, names mapped to other ids, missing
flags, no manifest at all), stop, or let their leases expire; operators register, retire,
enable and disable flags on the plane; instances take orders.

Checked after every step, or at the moment it matters:
- a name, and an id, is bound to one identity over the whole history, and never rebound;
- a retire is refused (changing nothing, naming the readers) while a live member reads the
  flag by its name or id, and allowed once none does;
- at each enable, every member whose lease was fresh declared that name under that id (and
  no other name under it), and an enable is refused only when one did not;
- every live member the plane accepts declares every enabled flag under its id, and the
  plane's verdict on each live member is the registry's verdict on its manifest now;
- an instance that may route reads every flag with the registry's meaning: the names its
  FlagSet has on are exactly the enabled flags, by name and id; an accepted order came from
  such an instance.
"""

from __future__ import annotations

import contextlib

from fleet_kit import submit, tick
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from hypothesis_profiles import examples
from interlock.api.config import load_config, parse_config
from interlock.control.fleetflags import declared, flag_refusal
from interlock.control.plane import Member
from interlock.errors import FlagError
from interlock.flags import FlagManifest, FlagRegistered, FlagRegistry
from interlock.sim.fleet import InProcessFleet
from interlock.sim.harness import START_NS, ManualClock

IDS = ["gw-1", "gw-2", "gw-3", "gw-4"]
INSTANCES = st.sampled_from(IDS)
NAMES = st.sampled_from(["power_peg", "rlp", "sweep", "mm"])
FLAG_IDS = st.sampled_from([1, 2, 3, 8])
MEANINGS = st.sampled_from(["Power Peg", "Retail Liquidity Program"])
STRAY = st.dictionaries(NAMES, FLAG_IDS, max_size=3)


def declares(manifest: FlagManifest, name: str, flag_id: int) -> bool:
    """This name under this id, and no other name under this id."""
    reads = manifest.reads
    return reads.get(name) == flag_id and all(i != flag_id for n, i in reads.items() if n != name)


class FleetFlagMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.clock = ManualClock(START_NS)
        data = load_config().model_dump(mode="json")
        data["fleet"]["quorum"] = 1  # an accepted instance may route on its own
        config = parse_config(data, "flag fleet test")
        self.f = InProcessFleet(4, config=config, clock=self.clock, build_digest="b")
        self.identity: dict[str, tuple[int, str]] = {}  # the first binding of each name
        self.stopped: set[str] = set()
        self.dead: set[str] = set()  # heartbeats stopped: the lease runs out
        self.n = 0

    # -- instances ------------------------------------------------------------------------

    @rule(i=INSTANCES, data=st.data())
    def join(self, i: str, data: st.DataObject) -> None:
        registry = self.f.plane.flag_registry()
        active = {f.name: f.flag_id for f in registry.flags() if not f.retired}
        kind = data.draw(st.sampled_from(["current", "partial", "stray", "none"]))
        manifest: FlagManifest | None = None
        if kind == "current":
            manifest = FlagManifest("current", active)
        elif kind == "partial":
            names = data.draw(st.lists(st.sampled_from(sorted(active)), unique=True)) if active \
                else []  # fmt: skip
            manifest = FlagManifest("partial", {n: active[n] for n in names})
        elif kind == "stray":
            manifest = FlagManifest("stray", {**active, **data.draw(STRAY)})
        self.f.restart(i, "b", manifest=manifest)
        self.stopped.discard(i)
        self.dead.discard(i)
        verdict = self._members()[i].flag_refusal
        event(f"join {kind}: {'refused' if verdict else 'accepted'}")

    @rule()
    def deploy(self) -> None:
        """Every running instance restarts on a build that reads every active flag."""
        registry = self.f.plane.flag_registry()
        current = FlagManifest("current", {f.name: f.flag_id for f in registry.flags()
                                           if not f.retired})  # fmt: skip
        for i in IDS:
            if i not in self.stopped:
                self.f.restart(i, "b", manifest=current)
        self.dead.clear()

    @rule(i=INSTANCES)
    def stop(self, i: str) -> None:
        self.f.stop(i)
        self.stopped.add(i)

    @rule(ms=st.integers(0, 1_500), dies=st.sampled_from([None, *IDS]))
    def time_passes(self, ms: int, dies: str | None) -> None:
        if dies is not None:
            self.dead.add(dies)
        renew = [i for i in IDS if i not in self.dead | self.stopped]
        tick(self.f, self.clock, ms, renew=renew)

    @rule(i=INSTANCES)
    def order(self, i: str) -> None:
        if i in self.stopped:
            return
        self.n += 1
        d = submit(self.f, i, self.n)
        event(f"order: {d.code or 'ACCEPTED'}")
        if not d.accepted:
            return
        member = self._members().get(i)
        assert member is not None and member.lease_expires_ns > self.clock.now
        assert member.flag_refusal == "", member.flag_refusal
        self._reads_with_the_registry_s_meaning(i)

    # -- operators ------------------------------------------------------------------------

    @rule(name=NAMES, flag_id=FLAG_IDS, meaning=MEANINGS)
    def register(self, name: str, flag_id: int, meaning: str) -> None:
        try:
            self.f.plane.register_flag(name, flag_id, meaning, "smars")
        except FlagError:
            return
        bound = self.identity.setdefault(name, (flag_id, meaning))
        assert bound == (flag_id, meaning), (name, bound, flag_id, meaning)

    @rule(name=NAMES)
    def retire(self, name: str) -> None:
        flag = self.f.plane.flag_registry().get(name)
        live = list(self._members().values())  # fresh leases now; retire sees the same
        read = flag is not None and any(
            name in declared(m.attestation).reads
            or flag.flag_id in declared(m.attestation).reads.values()
            for m in live
        )
        may = flag is not None and (flag.retired or (not flag.enabled and not read))
        before = self.f.plane.flag_registry().history
        try:
            self.f.plane.retire_flag(name, "ops")
        except FlagError as exc:
            assert not may, f"retire {name} refused though no live member reads it: {exc}"
            assert self.f.plane.flag_registry().history == before  # nothing changed
            if read and not flag.enabled:  # an enabled flag is refused for that first
                assert all(m.instance_id in str(exc) for m in live
                           if name in declared(m.attestation).reads)  # fmt: skip
                event("retire refused: a live member reads it")
            return
        assert may, f"retire {name} allowed though a live member reads it"
        event("retire allowed")

    @rule(name=NAMES)
    def disable(self, name: str) -> None:
        with contextlib.suppress(FlagError):
            self.f.plane.disable_flag(name, "ops")

    @rule(data=st.data())
    def enable(self, data: st.DataObject) -> None:
        known = sorted(f.name for f in self.f.plane.flag_registry().flags())
        name = data.draw(st.sampled_from(known) if known else NAMES)
        flag = self.f.plane.flag_registry().get(name)
        live = list(self._members().values())  # fresh leases now; enable sees the same
        may = (
            flag is not None
            and not flag.retired
            and bool(live)
            and all(declares(declared(m.attestation), name, flag.flag_id) for m in live)
        )
        try:
            self.f.plane.enable_flag(name, "ops")
        except FlagError:
            assert not may, f"enable {name} refused though every live member declares it"
            event("enable refused")
            return
        assert may, f"enable {name} allowed though a live member does not declare it"
        event("enable allowed")

    # -- invariants -----------------------------------------------------------------------

    @invariant()
    def a_name_and_an_id_are_bound_once_over_the_whole_history(self) -> None:
        history = self.f.plane.flag_registry().history
        registered = [e for e in history if isinstance(e, FlagRegistered)]
        assert len({e.name for e in registered}) == len(registered)
        assert len({e.flag_id for e in registered}) == len(registered)
        for e in registered:
            assert self.identity[e.name] == (e.flag_id, e.meaning)

    @invariant()
    def every_accepted_live_member_declares_every_enabled_flag(self) -> None:
        registry = self.f.plane.flag_registry()
        enabled = [f for f in registry.flags() if f.enabled]
        for m in self._members().values():
            assert m.flag_refusal == flag_refusal(m.attestation, registry)  # judged afresh
            if not m.flag_refusal:
                for flag in enabled:
                    assert declares(declared(m.attestation), flag.name, flag.flag_id)

    @invariant()
    def an_instance_that_may_route_reads_flags_with_the_registry_s_meaning(self) -> None:
        now = self.clock.now
        for i in IDS:
            if i not in self.stopped and self.f[i].gate.check(now) is None:
                self._reads_with_the_registry_s_meaning(i)

    # -- helpers --------------------------------------------------------------------------

    def _members(self) -> dict[str, Member]:
        return {m.instance_id: m for m in self.f.plane.members()}

    def _reads_with_the_registry_s_meaning(self, i: str) -> None:
        registry: FlagRegistry = self.f.plane.flag_registry()
        gw = self.f[i]
        mine = declared(gw.attestation)
        on = {
            name
            for name, flag_id in mine.reads.items()
            if (flag := registry.get(name)) is not None and flag.enabled and flag.flag_id == flag_id
        }
        assert gw.flags.on() == on, (i, gw.flags.on(), on)
        for flag in registry.flags():
            if flag.enabled:
                assert gw.flags.enabled(flag.name), (i, flag.name)


TestFleetFlags = FleetFlagMachine.TestCase
TestFleetFlags.settings = settings(
    max_examples=examples(ci=50, thorough=300), stateful_step_count=40, deadline=None
)
