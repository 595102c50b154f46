"""The gateway machine's process life cycle: clean restarts, deploys and crashes.

A mixin of `GatewayMachine` (test_gateway_machine.py), which it reads and writes: the
harness `h`, the crashable journal, `build` (what the instance runs) and the model's acks
and idempotency keys. The control plane, the venue and the market outlive a process: each
restart builds a new instance over them (`instance.build_instance`, the one way) and
reconciles with the venue before it trades.
"""

from __future__ import annotations

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import precondition, rule
from machine_kit import (
    CONFIG,
    KEY_OF,
    book_state,
    note,
    rare,
)

from interlock.control.deploy import Deployment
from interlock.domain.commands import OrderRequest
from interlock.domain.enums import OrderType, Side
from interlock.domain.events import DeployAborted, DeployProposed, OrderDecided
from interlock.domain.reject import RejectCode
from interlock.errors import DeployError
from interlock.instance import build_instance
from interlock.sim.harness import Harness


class LifecycleRules:
    """Restart, deploy and crash rules (see the module docstring)."""

    def _detach(self, old: Harness) -> None:
        """The old process is gone: it hears no more prices and holds no lease."""
        old.market.unsubscribe(old.gateway.update_reference)
        old.gateway.fleet.leave()

    def _start_on(self, old: Harness, build: str | None) -> Harness:
        """A new instance (built the one way, instance.py) over `self.journal`, the same
        venue, market and control plane (they outlive a process), running `build`."""
        flag_digest = old.gateway.attestation.flag_digest
        gw = build_instance(CONFIG, journal=self.journal, venue=old.venue, plane=old.plane,
                            clock=self.clock, build_digest=build, flag_digest=flag_digest,
                            reference_from=old.market)  # fmt: skip
        report = gw.wait_reconciled(0)
        assert report is not None and report.error == "", report
        return Harness(gw, self.journal, old.venue, old.market, old.plane, self.clock)

    def _reconnect(self, old: Harness) -> Harness:
        """A clean restart (the exposure machine's `restart`): same plane, same build."""
        self._detach(old)
        return self._start_on(old, self.build)

    def _clean_restart(self, build: str | None) -> None:
        """Stop cleanly (everything durable first) and start on `build`; the journal's
        state comes back the same."""
        old = self.h
        self._flush_all()
        before = book_state(old.gateway, marks=False)
        self._detach(old)
        self.h = self._start_on(old, build)
        self.restarts += 1
        assert book_state(self.h.gateway, marks=False) == before
        self.h.refresh_references()

    @precondition(lambda self: len(self.requests) > 4 * self.restarts)
    @rule(fresh_venue=rare(3))
    def restart(self, fresh_venue: bool) -> None:
        """The exposure machine's clean restart; a fresh venue is one that cancelled every
        order on the disconnect, so the cancels it held in flight are acted on first."""
        if fresh_venue:
            self.venue.release_cancels()
        plane = self.h.plane
        super().restart(fresh_venue)
        if self.h.plane is not plane:  # a new plane: nothing deployed on it yet
            self.build = None

    # -- deploys -----------------------------------------------------------------------

    @precondition(lambda self: self.deploys < 3)
    @rule(outcome=st.sampled_from(["refused", "committed", "straggler"]))
    def deploy(self, outcome: str) -> None:
        note("rule: deploy")
        self.deploys += 1
        plane = self.h.plane
        gw = self.h.gateway
        release = plane.release()
        if outcome == "straggler":
            self._straggler(release.build_digest)
            return
        self.builds += 1
        build = f"build-{self.builds}"
        deployment = Deployment(plane, who="ops", clock=self.clock)
        deployment.propose(build, gw.attestation.flag_digest, [gw.instance_id])
        if outcome == "refused":  # nobody restarted onto it: refused, nothing changes
            before = book_state(gw, marks=True)
            last_seq = self.journal.last_seq
            with pytest.raises(DeployError):
                deployment.commit()
            deployment.abort("the instance kept its build")
            assert plane.release() == release
            assert book_state(gw, marks=True) == before
            journaled = {type(ev) for ev in self.journal.log[last_seq:]}  # type: ignore[attr-defined]
            assert journaled <= {DeployProposed, DeployAborted}, journaled  # the deploy's story
            assert gw.health().gate == "routing"
        else:
            self._clean_restart(build)
            committed = deployment.commit()
            assert (committed.build_digest, committed.epoch) == (build, release.epoch + 1)
            self.build = build
            assert self.h.gateway.health().gate == "routing"
        note(f"deploy {outcome}")

    def _straggler(self, released: str) -> None:
        """Restart onto a build the release does not name: it routes nothing; then back."""
        if not released:
            return  # nothing released yet: any build may trade
        self._clean_restart("build-stale")
        sent = len(self.sent)
        self.n += 1
        request = OrderRequest(f"c{self.n}", "desk-7", "vwap", "AAPL", Side.BUY, 1,
                               OrderType.LIMIT, self.h.gateway.instruments["AAPL"].to_price(
                                   self.h.market.mid("AAPL")))  # fmt: skip
        decision = self._submit(KEY_OF["desk-7"], request)
        self._flush_all()
        assert decision.code is RejectCode.INSTANCE_NOT_ATTESTED, decision
        assert len(self.sent) == sent
        note("deploy straggler: INSTANCE_NOT_ATTESTED")
        self._clean_restart(self.build)

    # -- crash -------------------------------------------------------------------------

    @precondition(lambda self: len(self.requests) > 4 * self.restarts)
    @rule()
    def crash(self) -> None:
        """SIGKILL: what was never committed is lost; the restart rebuilds the rest."""
        note("rule: crash")
        old = self.h
        journal = self.journal
        durable = journal.durable_seq
        log = list(journal.log)
        self._detach(old)
        lost = journal.crash()  # type: ignore[attr-defined]
        assert lost == len(log) - durable
        self.journal = self._open_journal()  # type: ignore[assignment]
        prefix = self.journal.log  # type: ignore[attr-defined]
        assert prefix == log[:durable], "the restarted journal is not the durable prefix"
        decided = {ev.order_id: seq for seq, ev in enumerate(prefix, 1)
                   if isinstance(ev, OrderDecided) and ev.order_id is not None}  # fmt: skip
        for seq, acked in self.acks:
            for d in acked:  # no acknowledged decision is missing
                assert seq <= durable and d.seq == seq, (seq, durable)
                if d.order_id is not None:
                    assert decided.get(d.order_id) == d.seq
        for order_id in self.sent:  # nor any order the venue got
            assert order_id in decided, f"order {order_id} at the venue, not in the journal"
        self.acks = [(seq, acked) for seq, acked in self.acks if seq <= durable]
        self.keys = {k: v for k, v in self.keys.items() if v[1].seq <= durable}
        self.h = self._start_on(old, self.build)
        self.restarts += 1
        self.h.refresh_references()
        note(f"crash: {'some' if lost else 'none'} lost")
