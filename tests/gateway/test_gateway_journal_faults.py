"""A journal fault on a running gateway: new orders refused at once with
JOURNAL_UNAVAILABLE (answered, not journaled), the instance halted through the kill switch,
`health` telling the truth; cancels, halts and fills still work (in memory, cancels to the
venue at once) and become durable in order when the journal is back; the halt stays until
a person resumes; past `journal.max_backlog` the instance stops for good.

Each of the first four reproduces a bug of the fail-closed-forever journal: the halt raised
before it cancelled or confirmed, cancel raised, a fill was lost, health said "routing".
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest

from interlock.api.config import load_config, parse_config
from interlock.domain.commands import ParentOrder
from interlock.domain.decision import Decision
from interlock.domain.enums import HaltScope, OrderStatus, OrderType, Side
from interlock.domain.reject import RejectCode
from interlock.gateway.gateway import Gateway
from interlock.gateway.journal_status import JOURNAL_MONITOR
from interlock.journal.group_commit import RETRY_MAX_S
from interlock.sim.faulty_journal import FaultyJournal
from interlock.sim.harness import DESK_KEY, Harness, build
from interlock.sim.serve_fleet import wait_until

MARKET = OrderType.MARKET


def wait_for(cond: Callable[[], bool], timeout: float = 5.0, what: str = "condition") -> None:
    wait_until(cond, timeout, what, poll_s=0.002)  # the shared poll, polled finely


@pytest.fixture
def h() -> Iterator[Harness]:
    harness = build(journal=FaultyJournal())
    yield harness
    journal = harness.journal
    assert isinstance(journal, FaultyJournal)
    journal.heal_store()
    harness.gateway.close()


def faulty(h: Harness) -> FaultyJournal:
    assert isinstance(h.journal, FaultyJournal)
    return h.journal


def break_journal(h: Harness) -> None:
    """Break the store and make the writer find out (a record to write), then wait until
    the gateway has halted itself for it."""
    j = faulty(h)
    j.break_store()
    h.gateway.update_reference("AAPL", 10_000)  # not journaled: the next line is
    h.gateway.cancel(999_999, DESK_KEY)  # unknown: refused, nothing journaled
    h.gateway.submit(h.order(symbol="MSFT", quantity=1), DESK_KEY)  # journaled: it fails
    wait_for(lambda: not j.available, what="the journal to fail")
    assert h.gateway.journal_watch.halted.wait(5), "the instance did not halt itself"


def heal_journal(h: Harness) -> None:
    j = faulty(h)
    j.heal_store()
    wait_for(lambda: j.available, RETRY_MAX_S + 2, "the journal to come back")
    j.flush(timeout=5)


def working(h: Harness, **overrides: object) -> int:
    d = h.submit(**overrides)
    assert d.accepted and h.gateway.order(d.order_id).status is OrderStatus.WORKING  # type: ignore[union-attr]
    return d.order_id  # type: ignore[return-value]


def test_a_halt_while_the_journal_is_down_cancels_at_the_venue_and_confirms(h: Harness) -> None:
    oid = working(h)
    break_journal(h)
    report = h.gateway.journal_watch.halt_report  # the instance's own halt, fleet-wide
    assert report is not None and report.complete, report
    assert report.halt.scope is HaltScope.INSTANCE and report.halt.who == JOURNAL_MONITOR
    assert [x.key for x in h.plane.halts()] == [report.halt.key]  # the fleet sees it
    assert h.gateway.order(oid).status is OrderStatus.CANCELLED  # type: ignore[union-attr]
    assert h.venue.leaves(oid) == 0  # the cancel went to the venue at once
    person = h.gateway.halt(HaltScope.ACCOUNT, "desk-7", "ops halts too", "ops")
    assert person.complete and "1/1" in str(person), person


def test_a_cancel_while_the_journal_is_down_goes_to_the_venue_at_once(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    oid = working(h)
    watch = h.gateway.journal_watch
    monkeypatch.setattr(watch, "_halt", lambda failure: watch.halted.set())  # the cancel alone
    j = faulty(h)
    j.break_store()
    h.gateway.declare_parent(ParentOrder("p-1", "desk-7", "AAPL", Side.BUY, 500), DESK_KEY)
    wait_for(lambda: not j.available, what="the journal to fail")  # down before the cancel
    assert h.gateway.cancel(oid, DESK_KEY) is None  # applied in memory, not an exception
    assert h.venue.leaves(oid) == 0 and h.gateway.order(oid).status is OrderStatus.CANCELLED  # type: ignore[union-attr]
    heal_journal(h)
    kinds = [type(e).__name__ for _, e in j.stored]
    assert kinds[-3:] == ["ParentDeclared", "CancelRequested", "Cancelled"]  # durable, in order


def test_a_fill_while_the_journal_is_down_is_applied_and_made_durable_later(h: Harness) -> None:
    oid = working(h, quantity=300)
    j = faulty(h)
    j.break_store()
    assert h.gateway.on_fill(oid, 100, 10_001, "x-down-1") is True
    wait_for(lambda: not j.available, what="the journal to fail")
    assert h.gateway.on_fill(oid, 50, 10_001, "x-down-2") is True
    assert h.gateway.on_fill(oid, 50, 10_001, "x-down-2") is False  # a resend: once only
    order = h.gateway.order(oid)
    assert order is not None and order.filled == 150
    heal_journal(h)
    fills = [(e.order_id, e.exec_id) for _, e in j.stored if type(e).__name__ == "Filled"]
    assert fills == [(oid, "x-down-1"), (oid, "x-down-2")]
    rebuilt = Gateway(h.gateway.config, j, h.venue, h.plane, clock=h.clock)
    rebuilt.state.fold(j)
    assert rebuilt.book.orders[oid].filled == 150  # the journal holds what was applied


def test_health_says_JOURNAL_UNAVAILABLE_and_since_when(h: Harness) -> None:
    assert (h.gateway.health().gate, h.gateway.health().journal) == ("routing", "available")
    before = time.time_ns()
    break_journal(h)
    health = h.gateway.health()
    assert (health.gate, health.journal) == ("JOURNAL_UNAVAILABLE", "JOURNAL_UNAVAILABLE")
    assert before <= health.journal_since_ns <= time.time_ns()
    assert "No space left" in health.journal_failure
    assert h.gateway.fleet_snapshot().gate == "JOURNAL_UNAVAILABLE"
    heal_journal(h)
    assert (h.gateway.health().gate, h.gateway.health().journal) == ("routing", "available")


def test_new_orders_while_down_are_answered_not_journaled(h: Harness) -> None:
    break_journal(h)
    last = h.journal.last_seq
    acks: list[Decision] = []
    d = h.gateway.submit(h.order(), DESK_KEY, acks.append)
    assert d.code is RejectCode.JOURNAL_UNAVAILABLE and d.seq == 0
    assert acks == [d]  # answered at once: no record to wait for
    assert h.journal.last_seq == last
    assert h.gateway.wait(d) is d  # nothing to wait for


def test_the_halt_stays_after_the_journal_is_back_until_a_person_resumes(h: Harness) -> None:
    working(h)
    break_journal(h)
    assert h.gateway.resume(HaltScope.INSTANCE, "gw-1", "ops") is False  # refused while down
    refusal = h.gateway.resume_refusal()
    assert refusal is not None and refusal.code is RejectCode.JOURNAL_UNAVAILABLE
    assert h.gateway.halts.get(HaltScope.INSTANCE, "gw-1") is not None
    heal_journal(h)
    assert h.gateway.resume_refusal() is None
    assert h.submit().code is RejectCode.HALTED  # back, but still halted
    assert h.gateway.resume(HaltScope.INSTANCE, "gw-1", "ops") is True  # a person resumes
    assert h.submit(quantity=7).accepted
    j = faulty(h)
    j.flush(timeout=5)  # its Routed record, appended once the release loop sent it
    seqs = [s for s, _ in j.stored]
    assert seqs == list(range(1, len(seqs) + 1)) and seqs[-1] == j.last_seq  # none lost, none twice


def test_past_the_backlog_bound_the_instance_stops_for_good_and_cancels_everything() -> None:
    data = load_config().model_dump(mode="json")
    data["journal"]["max_backlog"] = 4
    h = build(parse_config(data, "small backlog"), journal=FaultyJournal())
    try:
        ids = [working(h, quantity=100 + i) for i in range(3)]
        j = faulty(h)
        j.break_store()
        h.gateway.cancel(ids[0], DESK_KEY)  # records queue: request, cancel
        wait_for(lambda: not j.available, what="the journal to fail")
        assert h.gateway.journal_watch.halted.wait(5)
        wait_for(lambda: bool(h.gateway.journal_watch.stopped), what="the stop for good")
        wait_for(lambda: h.gateway.open_orders() == [], what="every order cancelled")
        assert all(h.venue.leaves(oid) == 0 for oid in ids)
        heal_journal(h)
        refusal = h.gateway.resume_refusal()
        assert refusal is not None and "stopped trading for good" in refusal.reason
        health = h.gateway.health()  # the store is back, the instance says it stopped
        assert (health.journal, health.gate) == ("available", "JOURNAL_UNAVAILABLE")
        assert "stopped trading for good" in health.journal_failure
        assert h.gateway.submit(h.order(), DESK_KEY).code is RejectCode.JOURNAL_UNAVAILABLE
        assert h.gateway.resume(HaltScope.INSTANCE, "gw-1", "ops") is False
    finally:
        faulty(h).heal_store()
        h.gateway.close()
