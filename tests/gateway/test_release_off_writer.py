"""Venue sends run on the release loop, not the journal writer; a `Routed` record follows
each send; cancels go once their record is durable (unless the journal is unavailable).

The slow-venue tests use a real SQLite journal (its writer thread commits) and a venue
whose `send` blocks on an Event; every wait is bounded.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from interlock.domain.decision import Decision
from interlock.domain.enums import HaltScope, OrderStatus
from interlock.domain.events import OrderDecided, Routed
from interlock.domain.order import Order
from interlock.domain.reject import RejectCode
from interlock.errors import JournalError
from interlock.journal.memory import MemoryJournal
from interlock.journal.sqlite import SqliteJournal
from interlock.sim.harness import DESK_KEY, Harness, build, high_rate
from interlock.venue.simulated import SimulatedVenue

DEADLINE_S = 10.0
RESTING = Decimal("99.00")


def until(condition: Callable[[], bool], what: str) -> None:
    end = time.monotonic() + DEADLINE_S
    while not condition():
        if time.monotonic() > end:
            pytest.fail(f"not within {DEADLINE_S} s: {what}")
        time.sleep(0.001)


class BlockingVenue(SimulatedVenue):
    """`send` of the first order blocks until `go` is set."""

    go: threading.Event
    entered: threading.Event

    def send(self, order: Order) -> None:
        if order.order_id == 1:
            self.entered.set()
            if not self.go.wait(DEADLINE_S):
                raise AssertionError("the test never let the venue go")
        super().send(order)


def slow_rig(tmp_path: Path) -> tuple[Harness, BlockingVenue]:
    h = build(journal=SqliteJournal(tmp_path / "j.db"), start=False)
    venue = BlockingVenue(h.market, seed=7)
    venue.go, venue.entered = threading.Event(), threading.Event()
    h.gateway.venue = h.venue = venue
    h.gateway.reconciler._venue = venue
    venue.attach(h.gateway)
    h.gateway.start()
    h.refresh_references()
    return h, venue


def test_a_blocked_venue_send_delays_neither_commits_nor_acks_of_other_records(
    tmp_path: Path,
) -> None:
    h, venue = slow_rig(tmp_path)
    gw = h.gateway
    acks: list[Decision] = []
    try:
        first = gw.submit(h.order(limit_price=RESTING), DESK_KEY, acks.append)
        assert venue.entered.wait(DEADLINE_S)  # the release loop is stuck in send
        refused = gw.submit(h.order(quantity=20_000), DESK_KEY, acks.append)
        assert refused.code is RejectCode.MAX_ORDER_QTY
        h.journal.flush(DEADLINE_S)  # the writer commits while the venue blocks
        until(lambda: refused in acks, "the refusal's ack while the venue blocks")
        assert h.journal.durable_seq >= refused.seq and first not in acks
        assert not [e for _, e in h.journal.read() if isinstance(e, Routed)]  # not sent yet
        with pytest.raises(JournalError, match="not released"):
            gw.wait(first, 0.05)
    finally:
        venue.go.set()
    gw.wait(first, DEADLINE_S)
    assert first in acks
    order = gw.order(first.order_id)  # type: ignore[arg-type]
    assert order is not None and order.status is OrderStatus.WORKING
    h.journal.flush(DEADLINE_S)
    kinds = [(type(e).__name__, getattr(e, "order_id", None)) for _, e in h.journal.read()]
    assert kinds.index(("Routed", first.order_id)) > kinds.index(("OrderDecided", 1))
    gw.close()


def test_orders_are_released_in_journal_order_by_one_thread(tmp_path: Path) -> None:
    h = build(high_rate(), journal=SqliteJournal(tmp_path / "j.db"))
    sent: list[tuple[int, str]] = []
    real = h.venue.send

    def send(order: Order) -> None:
        sent.append((order.order_id, threading.current_thread().name))
        real(order)

    h.venue.send = send  # type: ignore[method-assign]
    decisions = [h.gateway.submit(h.order(limit_price=RESTING, quantity=10 + n), DESK_KEY)
                 for n in range(200)]  # fmt: skip
    h.gateway.wait(decisions[-1], DEADLINE_S)
    accepted = [d.order_id for d in decisions if d.accepted]
    assert len(accepted) > 100 and [oid for oid, _ in sent] == accepted
    assert {name for _, name in sent} == {"release-gw-1"}  # never the journal writer
    h.gateway.close()


def test_the_fold_tracks_routed_orders_exactly() -> None:
    h = build()
    d = h.submit(limit_price=RESTING)
    assert h.gateway.state.unrouted == set()
    h.journal.flush()  # the Routed, appended once the send returned, is durable
    pending = h.gateway.submit(h.order(limit_price=RESTING, quantity=50), DESK_KEY)
    assert h.gateway.state.unrouted == {pending.order_id}
    events = [e for _, e in h.journal.read()]
    assert [e.order_id for e in events if isinstance(e, Routed)] == [d.order_id]
    assert any(isinstance(e, OrderDecided) and e.order_id == d.order_id for e in events)


class HeldJournal(MemoryJournal):
    """A journal whose commit is held back while `held`; `available` as the journal says
    (False: it cannot make anything durable now)."""

    held = True
    available = True

    def flush(self, timeout: float | None = None) -> int:
        return self.durable_seq if self.held else super().flush(timeout)


def held_rig() -> tuple[Harness, HeldJournal, int]:
    journal = HeldJournal()
    journal.held = False
    h = build(journal=journal)
    oid = h.submit(limit_price=RESTING).order_id
    assert oid is not None and h.venue.leaves(oid) == 100
    journal.held = True
    return h, journal, oid


def test_a_cancel_reaches_the_venue_only_once_its_record_is_durable() -> None:
    h, journal, oid = held_rig()
    assert h.gateway.cancel(oid, DESK_KEY) is None
    assert h.venue.leaves(oid) == 100  # CancelRequested not durable: nothing sent
    journal.held = False
    journal.flush()
    assert h.venue.leaves(oid) == 0 and h.gateway.order(oid).status is OrderStatus.CANCELLED  # type: ignore[union-attr]


def test_a_halt_cancels_at_the_venue_only_once_the_halt_is_durable() -> None:
    h, journal, oid = held_rig()
    h.gateway.halt(HaltScope.ACCOUNT, "desk-7", "test", "ops")
    assert h.venue.leaves(oid) == 100
    journal.held = False
    journal.flush()
    assert h.venue.leaves(oid) == 0


def test_with_the_journal_unavailable_a_cancel_goes_at_once() -> None:
    h, journal, oid = held_rig()
    journal.available = False
    assert h.gateway.cancel(oid, DESK_KEY) is None
    assert h.venue.leaves(oid) == 0  # risk-reducing: sent without waiting for a commit


def test_cancels_queued_before_the_journal_became_unavailable_go_with_the_next() -> None:
    h, journal, oid = held_rig()
    other = h.gateway.submit(h.order(limit_price=RESTING, quantity=50), DESK_KEY).order_id
    journal.held = False
    journal.flush()
    journal.held = True
    assert h.gateway.cancel(oid, DESK_KEY) is None
    assert h.venue.leaves(oid) == 100
    journal.available = False
    assert h.gateway.cancel(other, DESK_KEY) is None  # type: ignore[arg-type]
    assert h.venue.leaves(oid) == 0 and h.venue.leaves(other) == 0  # type: ignore[arg-type]
