"""A halt leaves nothing of its scope working, even while a flood is being released.

Real threads, a real SQLite journal (its writer thread releases batches to the venue) and
the simulated venue holding resting (non-marketable) orders. Each trial waits until the
flood is seen running (orders accepted and resting at the venue), halts, and checks what
the venue holds against what the report counts as pending cancel. Bounded: 40 trials,
each at most a few thousand orders and a few seconds; every wait has a deadline.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from interlock.domain.enums import HaltScope, OrderStatus
from interlock.domain.order import Order
from interlock.domain.reject import RejectCode
from interlock.journal.memory import MemoryJournal
from interlock.journal.sqlite import SqliteJournal
from interlock.sim.harness import DESK_KEY, MM_KEY, Harness, build, config_with, high_rate
from interlock.venue.simulated import SimulatedVenue

TRIALS = 40
SUBMITTERS = 2
MAX_ORDERS = 3_000  # per submitter and trial: a bound on count as well as time
SEEN_RUNNING = 150  # accepted orders, and as many resting, before the halt
DEADLINE_S = 10.0
_OPEN_RATES = {k: {"count": 1_000_000, "window_ms": 1_000}
               for k in ("per_instance", "per_strategy", "per_symbol")}  # fmt: skip


def until(condition: Callable[[], bool], what: str, deadline_s: float = DEADLINE_S) -> None:
    """Wait for `condition`, polling, for at most `deadline_s`; fail saying `what`."""
    end = time.monotonic() + deadline_s
    while not condition():
        if time.monotonic() > end:
            pytest.fail(f"not within {deadline_s} s: {what}")
        time.sleep(0.0005)


class RecordingVenue(SimulatedVenue):
    """The simulated venue, noting every order sent while a global halt was in force.

    Each send gives up the GIL once, as a real venue's socket write does: the release loop
    then spends its batches interleaved with the halting thread, where the race lives."""

    late: list[int]
    halted: Callable[[], bool]

    def send(self, order: Order) -> None:
        time.sleep(0)
        if self.halted():
            self.late.append(order.order_id)
        super().send(order)


def flood_harness(journal_path: Path) -> tuple[Harness, RecordingVenue]:
    h = build(
        high_rate(config_with(rates=_OPEN_RATES)), journal=SqliteJournal(journal_path), start=False
    )  # floods on purpose: envelopes and monitors out of reach
    venue = RecordingVenue(h.market, seed=7)
    venue.late = []
    venue.halted = lambda: h.gateway.halts.get(HaltScope.GLOBAL, "") is not None
    h.gateway.venue = h.venue = venue
    venue.attach(h.gateway)
    h.gateway.start()
    h.refresh_references()
    return h, venue


def flood(h: Harness, symbol: str, accepted: list[int], stop: threading.Event) -> None:
    """Resting buys below the bid, each distinct (no DUPLICATE_ORDER), until halted."""
    for i in range(MAX_ORDERS):
        if stop.is_set():
            return
        price = Decimal(96) + Decimal(i // 20 % 300) / 100  # inside the collar, under the bid
        d = h.gateway.submit(h.order(account="mm-1", symbol=symbol, quantity=1 + i % 20,
                                     limit_price=price), MM_KEY)  # fmt: skip
        if d.accepted:
            accepted[0] += 1
        elif d.code is RejectCode.HALTED:
            return
        else:
            pytest.fail(f"flood order refused: {d.message}")


def run_trial(path: Path) -> tuple[int, int, int]:
    """One trial; returns (resting right after the report, its pending_cancel, late sends)."""
    h, venue = flood_harness(path)
    try:
        return flood_trial(h, venue)
    finally:
        h.gateway.close()


def flood_trial(h: Harness, venue: RecordingVenue) -> tuple[int, int, int]:
    accepted = [0]
    stop = threading.Event()
    symbols = ("AAPL", "MSFT", "NVDA", "AMZN")[:SUBMITTERS]
    threads = [threading.Thread(target=flood, args=(h, s, accepted, stop)) for s in symbols]
    for t in threads:
        t.start()
    try:
        until(lambda: accepted[0] >= SEEN_RUNNING and len(venue.open_order_ids()) >= SEEN_RUNNING,
              "the flood was seen running")  # fmt: skip
        report = h.gateway.halt(HaltScope.GLOBAL, "", "flood", "ops")
        resting = len(venue.open_order_ids())
        assert report.complete, str(report)
        assert resting <= report.pending_cancel, (
            f"{resting} orders rest at the venue after '{report}'"
        )
    finally:
        stop.set()
        for t in threads:
            t.join(DEADLINE_S)
    assert not any(t.is_alive() for t in threads)
    h.journal.flush(DEADLINE_S)  # every batch released (or held back) by now
    until(lambda: not venue.open_order_ids(), "the pending cancels resolved")
    for order in h.gateway.book.orders.values():
        assert not order.status.is_open, f"order {order.order_id} still {order.status.name}"
    for order_id in venue.late:  # only an order already being handed over, then cancelled
        assert venue.leaves(order_id) == 0
    return resting, report.pending_cancel, len(venue.late)


def test_a_global_halt_under_a_submit_flood_leaves_no_order_resting_at_the_venue(
    tmp_path: Path,
) -> None:
    results = [run_trial(tmp_path / f"trial-{n}.db") for n in range(TRIALS)]
    late = [n for _, _, n in results]
    # One release thread hands over one order at a time: at most that one goes out late.
    assert max(late) <= 1, f"orders sent after the halt was applied, per trial: {late}"
    print(f"\n{TRIALS} trials: resting/pending after the report {[r[:2] for r in results]}; "
          f"late sends {sum(late)}")  # fmt: skip


class HaltingVenue(SimulatedVenue):
    """Halts the fleet from inside its first `send`: a halt on the releasing thread."""

    gateway_halt: Callable[[], object]
    reports: list[object]

    def send(self, order: Order) -> None:
        super().send(order)
        if not self.reports:
            self.reports.append(self.gateway_halt())


def test_a_halt_from_inside_venue_send_cancels_the_order_in_hand_and_sends_no_other() -> None:
    h = build(journal=MemoryJournal(), start=False)
    venue = HaltingVenue(h.market, seed=7)
    venue.reports = []
    venue.gateway_halt = lambda: h.gateway.halt(HaltScope.GLOBAL, "", "from send", "ops")
    h.gateway.venue = h.venue = venue
    venue.attach(h.gateway)
    h.gateway.start()
    h.refresh_references()
    ids = [h.gateway.submit(h.order(limit_price=Decimal("99.00"), quantity=10 + n), DESK_KEY)
           .order_id for n in range(5)]  # fmt: skip
    flusher = threading.Thread(target=h.journal.flush, daemon=True)
    flusher.start()
    flusher.join(DEADLINE_S)
    assert not flusher.is_alive(), "deadlock: the release loop never finished"
    (report,) = venue.reports
    assert str(report).startswith("1/1 halted in ") and "5 orders pending cancel" in str(report)
    assert venue.open_order_ids() == ()  # the first was cancelled once send returned
    statuses = [h.gateway.order(i).status for i in ids]  # type: ignore[union-attr]
    assert statuses == [OrderStatus.CANCELLED] * 5
    assert venue.cancel_rejects == 0  # no cancel ever reached the venue before its order


def test_a_cancel_while_the_order_is_being_handed_over_reaches_the_venue_after_it() -> None:
    h = build(journal=MemoryJournal())
    order_id = h.gateway.submit(h.order(limit_price=Decimal("99.00")), DESK_KEY).order_id
    assert order_id is not None
    real_send = h.venue.send

    def send_then_cancel(order: Order) -> None:  # the owner cancels in mid hand-over
        assert h.gateway.cancel(order.order_id, DESK_KEY) is None
        real_send(order)

    h.venue.send = send_then_cancel  # type: ignore[method-assign]
    h.journal.flush()
    assert h.venue.open_order_ids() == () and h.venue.cancel_rejects == 0
    assert h.gateway.order(order_id).status is OrderStatus.CANCELLED  # type: ignore[union-attr]


def test_a_fill_for_an_order_not_yet_released_is_refused_and_alerted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    h = build(journal=MemoryJournal())
    d = h.gateway.submit(h.order(limit_price=Decimal("99.00")), DESK_KEY)
    assert d.order_id is not None
    order = h.gateway.order(d.order_id)
    assert order is not None and order.status is OrderStatus.PENDING
    with caplog.at_level(logging.ERROR, logger="interlock.gateway.gateway"):
        h.gateway.on_fill(d.order_id, 100, 9_900, "X-forged")
    assert order.filled == 0 and h.gateway.positions() == [("desk-7", "AAPL", 0, 100, 0)]
    assert h.gateway.refused_fills == 1
    assert any("fill refused" in r.getMessage() for r in caplog.records)
    h.journal.flush()  # released as usual afterwards
    assert order.status is OrderStatus.WORKING and h.venue.leaves(d.order_id) == 100
