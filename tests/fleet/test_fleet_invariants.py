"""DESIGN.md invariants 1, 3 and 4 across instances: hypothesis interleaves several gateways
sharing one embedded control plane and checks, after every step or at every acceptance,
against the control plane's own records (the ground truth), never the gateways' caches.

1. Fleet-wide, position plus open reservations never exceeds the limit (fleet budgets).
3. An instance whose attestation differs from the release, or whose lease is not fresh,
   routes nothing.
4. Once a halt is written no instance accepts an order it covers (the embedded plane's
   propagation bound is zero: watchers run before `put_halt` returns); an instance that
   loses the control plane stops by itself within its lease TTL.
"""

from __future__ import annotations

import contextlib

from fleet_kit import (
    NEW,
    NEW_FLAGS,
    OLD,
    OLD_FLAGS,
    budget_config,
    fleet,
    request,
    submit,
    tick,
)
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from hypothesis_profiles import examples
from interlock.control.deploy import Deployment
from interlock.domain.decision import Decision
from interlock.domain.enums import HaltScope, Side
from interlock.errors import DeployError
from interlock.sim.harness import MM_KEY

SETTINGS = settings(
    max_examples=examples(ci=40, thorough=300), stateful_step_count=40, deadline=None
)
LIMIT = 1_000
instance = st.sampled_from(["gw-1", "gw-2", "gw-3"])


class FleetBudgetMachine(RuleBasedStateMachine):
    """Invariant 1: three instances trade desk-7 AAPL against one fleet-wide limit."""

    def __init__(self) -> None:
        super().__init__()
        self.f, self.clock = fleet(3, budget_config(limit=LIMIT, slice_shares=150))
        self.n = 0

    @rule(i=instance, side=st.sampled_from([Side.BUY, Side.SELL]), qty=st.integers(1, 700))
    def submit(self, i: str, side: Side, qty: int) -> None:
        self.n += 1
        d = submit(self.f, i, self.n, side=side, quantity=qty)
        event(
            f"budget order: {d.code or 'ACCEPTED'}" + (" (fleet)" if "fleet" in d.message else "")
        )

    @rule(i=instance, data=st.data())
    def fill(self, i: str, data: st.DataObject) -> None:
        gw = self.f[i]
        if gw.book.open_orders:
            order = data.draw(st.sampled_from(sorted(gw.book.open_orders.values(),
                                                     key=lambda o: o.order_id)))  # fmt: skip
            self.n += 1
            gw.on_fill(order.order_id, data.draw(st.integers(1, order.leaves)), order.price,
                       f"x{self.n}")  # fmt: skip

    @rule(i=instance, data=st.data())
    def cancel(self, i: str, data: st.DataObject) -> None:
        gw = self.f[i]
        if gw.book.open_orders:
            oid = data.draw(st.sampled_from(sorted(gw.book.open_orders)))
            gw.on_cancelled(oid, gw.book.open_orders[oid].leaves, "venue confirmed")

    @rule(ms=st.integers(0, 600))
    def heartbeat(self, ms: int) -> None:  # idle slices go back
        tick(self.f, self.clock, ms)

    @rule(i=instance)
    def restart(self, i: str) -> None:
        self.f.restart(i, OLD, OLD_FLAGS)

    @invariant()
    def fleet_position_plus_reservations_within_the_limit(self) -> None:
        longs = shorts = 0
        slices = self.f.plane.slices("position/desk-7/AAPL")
        for i in self.f.ids:
            acct = self.f[i].book.accounts.get("desk-7")
            p = acct.positions.get("AAPL") if acct is not None else None
            if p is None:
                continue
            long, short = p.pos + p.open_buy, p.open_sell - p.pos
            assert max(long, short, 0) <= slices.get(i, 0), (i, long, short, slices)
            longs += long
            shorts += short
        assert longs <= LIMIT and shorts <= LIMIT and sum(slices.values()) <= LIMIT


class AttestationMachine(RuleBasedStateMachine):
    """Invariant 3: deploys, restarts on either build, dying heartbeats, orders."""

    def __init__(self) -> None:
        super().__init__()
        self.f, self.clock = fleet(4)
        self.deploy = Deployment(self.f.plane, who="ops", clock=self.clock)
        self.dead: set[str] = set()
        self.n = 0
        self.accepted = dict.fromkeys(self.f.ids, 0)

    @rule(i=st.sampled_from(["gw-1", "gw-2", "gw-3", "gw-4"]), new=st.booleans())
    def restart(self, i: str, new: bool) -> None:
        self.f.restart(i, *((NEW, NEW_FLAGS) if new else (OLD, OLD_FLAGS)))
        self.dead.discard(i)
        self.accepted[i] = 0  # a new process, a new venue session

    @rule(new=st.booleans(), members=st.sets(st.sampled_from(["gw-1", "gw-2", "gw-3", "gw-4"]),
                                             min_size=1))  # fmt: skip
    def propose(self, new: bool, members: set[str]) -> None:
        build, flags = (NEW, NEW_FLAGS) if new else (OLD, OLD_FLAGS)
        with contextlib.suppress(DeployError):
            self.deploy.propose(build, flags, sorted(members))

    @precondition(lambda self: self.f.plane.proposal() is not None)
    @rule(skip=st.sampled_from([None, "gw-1", "gw-4"]))
    def restart_onto_the_proposal(self, skip: str | None) -> None:
        p = self.f.plane.proposal()
        assert p is not None
        for i in p.members:
            if i != skip:  # maybe one straggler keeps what it runs
                self.restart(i, p.build_digest == NEW)

    @rule()
    def commit(self) -> None:
        try:
            self.deploy.commit()
            event("deploy committed")
        except DeployError:
            event("deploy refused")

    @rule()
    def abort(self) -> None:
        with contextlib.suppress(DeployError):
            self.deploy.abort()

    @rule(ms=st.integers(0, 1_500), dies=st.sampled_from([None, "gw-1", "gw-2", "gw-3", "gw-4"]))
    def time_passes(self, ms: int, dies: str | None) -> None:
        if dies is not None:
            self.dead.add(dies)
        tick(self.f, self.clock, ms, renew=[i for i in self.f.ids if i not in self.dead])

    @rule(i=st.sampled_from(["gw-1", "gw-2", "gw-3", "gw-4"]))
    def order(self, i: str) -> None:
        self.n += 1
        d = submit(self.f, i, self.n)
        event(f"attestation order: {d.code or 'ACCEPTED'}")
        if not d.accepted:
            return
        self.accepted[i] += 1
        release = self.f.plane.release()
        member = {m.instance_id: m for m in self.f.plane.members()}.get(i)
        assert member is not None and member.lease_expires_ns > self.clock.now, "lease"
        a = member.attestation
        assert (a.build_digest, a.flag_digest) == (release.build_digest, release.flag_digest)
        assert self.f[i].gate.epoch == release.epoch

    @invariant()
    def the_venue_got_only_what_was_accepted(self) -> None:
        for i in self.f.ids:
            assert self.f.sent(i) == self.accepted[i]


def covers(scope: HaltScope, target: str, instance_id: str, account: str, strategy: str,
           symbol: str) -> bool:  # fmt: skip
    return {
        HaltScope.GLOBAL: True,
        HaltScope.INSTANCE: target == instance_id,
        HaltScope.ACCOUNT: target == account,
        HaltScope.STRATEGY: target == strategy,
        HaltScope.SYMBOL: target == symbol,
    }[scope]


HALTS = st.sampled_from([
    (HaltScope.GLOBAL, ""), (HaltScope.INSTANCE, "gw-2"), (HaltScope.ACCOUNT, "desk-7"),
    (HaltScope.ACCOUNT, "mm-1"), (HaltScope.STRATEGY, "smars"), (HaltScope.SYMBOL, "AAPL"),
    (HaltScope.SYMBOL, "MSFT"),
])  # fmt: skip
FLOWS = st.sampled_from([("desk-7", "smars", "AAPL"), ("desk-7", "vwap", "MSFT"),
                         ("mm-1", "mm", "AAPL"), ("mm-1", "mm", "GOOG")])  # fmt: skip


class HaltMachine(RuleBasedStateMachine):
    """Invariant 4: halts and resumes from operators and instances, dying heartbeats."""

    def __init__(self) -> None:
        super().__init__()
        self.f, self.clock = fleet(3)
        self.dead: set[str] = set()
        self.n = 0

    @rule(h=HALTS, by=st.sampled_from([None, "gw-1", "gw-3"]))
    def halt(self, h: tuple[HaltScope, str], by: str | None) -> None:
        scope, target = h
        if by is None:
            report = self.f.halt(scope, target, "drill", "ops", bound_ms=50)
        else:
            report = self.f[by].halt(scope, target, "drill", "ops")
        live = {m.instance_id for m in self.f.plane.members()}
        assert set(report.confirmed) == live and report.complete  # every live one confirmed

    @rule(h=HALTS)
    def resume(self, h: tuple[HaltScope, str]) -> None:
        self.f.plane.remove_halt(h[0], h[1], "ops")

    @rule(ms=st.integers(0, 1_500), dies=st.sampled_from([None, "gw-1", "gw-2", "gw-3"]))
    def time_passes(self, ms: int, dies: str | None) -> None:
        if dies is not None:
            self.dead.add(dies)
        tick(self.f, self.clock, ms, renew=[i for i in self.f.ids if i not in self.dead])

    @precondition(lambda self: bool(self.dead))
    @rule()
    def restart_the_dead(self) -> None:
        for i in sorted(self.dead):
            self.f.restart(i, OLD, OLD_FLAGS)
        self.dead.clear()

    @rule(i=st.sampled_from(["gw-1", "gw-2", "gw-3"]), flow=FLOWS)
    def order(self, i: str, flow: tuple[str, str, str]) -> None:
        account, strategy, symbol = flow
        self.n += 1
        d: Decision
        if account == "mm-1":
            gw = self.f[i]
            d = gw.submit(request(self.n, account=account, strategy=strategy, symbol=symbol),
                          MM_KEY)  # fmt: skip
            self.f.instances[i].journal.flush()
        else:
            d = submit(self.f, i, self.n, strategy=strategy, symbol=symbol)
        event(f"halt order: {d.code or 'ACCEPTED'}")
        if not d.accepted:
            return
        for h in self.f.plane.halts():
            assert not covers(h.scope, h.target, i, account, strategy, symbol), h
        member = {m.instance_id: m for m in self.f.plane.members()}.get(i)
        assert member is not None and member.lease_expires_ns > self.clock.now, "lease"


TestFleetBudgets = FleetBudgetMachine.TestCase
TestFleetBudgets.settings = SETTINGS
TestAttestation = AttestationMachine.TestCase
TestAttestation.settings = SETTINGS
TestHalts = HaltMachine.TestCase
TestHalts.settings = SETTINGS
