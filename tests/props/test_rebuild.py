"""`rebuild(journal) == live state`, after any generated sequence and at any crash point.

DESIGN.md, Shape of the code: the live path decides, appends, applies through one `apply`;
recovery folds the journal through the same `apply`. This drives the exposure machine's
programs (submits, releases, fills, venue cancels and rejects, client cancels, halts and
resumes, parents, market moves, time, restarts) and checks two things:

- after every step, a fresh instance folding every appended event (durable or not) has the
  live instance's state;
- a crash can cut the journal anywhere, also inside a group-commit batch and inside one
  command's events (a halt's HaltApplied and its cancels): for a cut drawn at each step, a
  fresh instance folding the events up to it has the live state as it was when the event
  at the cut had just been applied (snapshotted after every `InstanceState.apply`).

Left out of "state", by design: prices and what depends on them (marks, P&L, gross: a
restart waits for the feed), the runaway monitors, and how far an open order has got on
its way to the venue beyond its `Routed` record (a rebuilt open order is taken as working;
`unrouted`, the open orders with no `Routed` yet, is state and is compared).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import invariant, rule
from machine_kit import CONFIG, ExposureMachine, book_state

from interlock.control.embedded import EmbeddedControlPlane
from interlock.domain.events import Event
from interlock.domain.order import Order
from interlock.gateway.gateway import Gateway
from interlock.gateway.state import InstanceState
from interlock.journal.memory import MemoryJournal

State = dict[str, Any]


def live_state(gw: Gateway) -> State:
    """Everything `InstanceState` must give back, open statuses folded into 'open'."""
    state = book_state(gw, marks=False)
    state["orders"] = {
        oid: ("open" if o[0].is_open else o[0].value, *o[1:]) for oid, o in state["orders"].items()
    }
    s = gw.state
    state["halts"] = sorted(
        (h.scope.value, h.target, h.reason, h.who, h.ts) for h in gw.halts.records()
    )
    state["exec_ids"] = set(s.exec_ids)
    state["keys"] = {k: (req, d.order_id, d.rejection, d.seq) for k, req, d in s.keys.entries()}
    state["next_order_id"] = s.next_order_id
    state["unrouted"] = sorted(s.unrouted)  # open, decided, no Routed record yet
    state["limits_digest"] = s.limits_digest
    state["order_seqs"] = {oid: o.seq for oid, o in gw.book.orders.items()}
    return state


def rebuilt(events: list[Any], venue: Any, clock: Any) -> State:
    """A fresh, never started instance folding `events`: what a restart finds."""
    journal = MemoryJournal()
    for event in events:
        journal.append(event)
    journal.flush()
    gw = Gateway(CONFIG, journal, venue, EmbeddedControlPlane(clock=clock), clock=clock)
    gw.state.fold(journal)
    return live_state(gw)


HOOKS: dict[int, Callable[[int], None]] = {}


class Snapshotting(InstanceState):
    """The gateway's state, calling its hook after every event it applies."""

    __slots__ = ()

    def apply(self, seq: int, event: Event, order: Order | None = None) -> None:
        super().apply(seq, event, order)
        hook = HOOKS.get(id(self))
        if hook is not None:
            hook(seq)


class RebuildMachine(ExposureMachine):
    def __init__(self) -> None:
        super().__init__()
        self.snapshots: dict[int, State] = {}

    def _watch(self) -> None:
        """Snapshot the live state after each event its state applies (every gateway)."""
        gw = self.h.gateway
        if gw.state.__class__ is not Snapshotting:
            gw.state.__class__ = Snapshotting
            HOOKS[id(gw.state)] = lambda seq: self.snapshots.__setitem__(seq, live_state(gw))

    @invariant()
    def a_fold_of_the_journal_is_the_live_state(self) -> None:
        gw = self.h.gateway
        self._watch()
        assert rebuilt(self.journal.log, self.h.venue, self.clock) == live_state(gw)

    @rule(cut=st.integers(0, 2**16))
    def crash(self, cut: int) -> None:
        """Cut the journal at a snapshotted event, durable or not, and rebuild."""
        self._watch()
        seqs = sorted(self.snapshots)
        if not seqs:
            return
        seq = seqs[cut % len(seqs)]
        assert rebuilt(self.journal.log[:seq], self.h.venue, self.clock) == self.snapshots[seq]


RebuildMachine.TestCase.settings = settings(
    max_examples=40, stateful_step_count=40, deadline=None, derandomize=True
)
test_rebuild_equals_live_state = RebuildMachine.TestCase
