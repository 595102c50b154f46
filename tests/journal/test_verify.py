"""`journal.verify` finds each kind of damage an auditor looks for, naming the record's seq,
and finds nothing in a journal a real gateway wrote (the demo: accepts, rejects, fills,
cancels, a halt). Damage is crafted as records, one kind at a time, into a clean base."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from rich.console import Console

from interlock.demo import run_demo
from interlock.domain.commands import OrderRequest
from interlock.domain.enums import Side
from interlock.domain.events import (
    Cancelled,
    CancelRequested,
    Event,
    Filled,
    LimitsLoaded,
    OrderDecided,
    Routed,
    VenueRejected,
)
from interlock.journal.sqlite import SqliteJournal
from interlock.journal.verify import FindingKind, verify

Records = list[tuple[int, Event]]


def _request(qty: int = 100) -> OrderRequest:
    return OrderRequest("c1", "desk-7", "vwap", "AAPL", Side.BUY, qty, limit_price=Decimal("100"))


def accept(order_id: int, qty: int = 100, digest: str = "d1") -> OrderDecided:
    return OrderDecided(2, "desk", _request(qty), order_id, 10_000, 10_000, "", "", "", "", digest)


def clean() -> Records:
    events: list[Event] = [
        LimitsLoaded(1, "d1", "{}"),
        accept(1),
        OrderDecided(3, "desk", _request(), None, 0, 0, "MAX_ORDER_QTY", "r", "10", "100", "d1"),
        Filled(4, 1, 60, 10_000, "e1"),
        CancelRequested(5, 1, "desk", "done"),
        Cancelled(6, 1, 40, "done"),
        accept(2),
        VenueRejected(7, 2, "no"),
    ]
    return list(enumerate(events, start=1))


def _append(records: Records, event: Event) -> Records:
    return [*records, (records[-1][0] + 1, event)]


DAMAGE: dict[FindingKind, tuple[Callable[[Records], Records], int]] = {
    FindingKind.SEQUENCE_GAP: (lambda r: [*r[:4], *r[5:]], 6),
    FindingKind.SEQUENCE_REPEAT: (lambda r: [*r[:5], r[4], *r[5:]], 5),
    FindingKind.ACCEPT_WITHOUT_REQUEST: (
        lambda r: _append(r, OrderDecided(9, "d", None, 3, 1, 1, "", "", "", "", "d1")),
        9,
    ),
    FindingKind.DECISION_WITHOUT_OUTCOME: (
        lambda r: _append(r, OrderDecided(9, "d", _request(), None, 0, 0, "", "", "", "", "d1")),
        9,
    ),
    FindingKind.DECISION_WITHOUT_LIMITS: (lambda r: _append(r, accept(3, digest="d2")), 9),
    FindingKind.ORDER_ID_REPEATED: (lambda r: _append(r, accept(1)), 9),
    FindingKind.FILL_WITHOUT_ORDER: (lambda r: _append(r, Filled(9, 77, 1, 1, "e9")), 9),
    FindingKind.FILL_OVER_QUANTITY: (lambda r: _append(r, Filled(9, 2, 101, 1, "e9")), 9),
    FindingKind.EXEC_ID_REPEATED: (lambda r: _append(r, Filled(9, 2, 1, 1, "e1")), 9),
    FindingKind.CANCEL_WITHOUT_ORDER: (lambda r: _append(r, Cancelled(9, 77, 1, "x")), 9),
    FindingKind.VENUE_REJECT_WITHOUT_ORDER: (lambda r: _append(r, VenueRejected(9, 77, "x")), 9),
    FindingKind.ROUTED_WITHOUT_ACCEPT: (lambda r: _append(r, Routed(9, 77)), 9),
}


def test_the_crafted_base_journal_verifies_clean() -> None:
    assert verify(clean()) == []


FILE_LEVEL = {FindingKind.CHECKSUM_MISMATCH, FindingKind.WAL_DAMAGE, FindingKind.PAGE_DAMAGE}
"""Found in the stored rows and the WAL, not in decoded records: tests/journal/
test_sqlite_integrity.py and tests/test_cli_journal_audit.py damage real files for them."""


def test_every_finding_kind_has_a_damage_case() -> None:
    assert set(DAMAGE) | FILE_LEVEL == set(FindingKind)


@pytest.mark.parametrize("kind", list(DAMAGE), ids=str)
def test_each_damage_is_found_once_with_its_seq(kind: FindingKind) -> None:
    damage, seq = DAMAGE[kind]

    findings = verify(damage(clean()))

    assert [(f.kind, f.seq) for f in findings] == [(kind, seq)], findings
    assert str(findings[0]).startswith(f"seq {seq} (")


def test_a_cancel_request_for_an_unknown_order_is_found() -> None:
    findings = verify(_append(clean(), CancelRequested(9, 55, "ops", "x")))

    assert [(f.kind, f.seq, f.record) for f in findings] == [
        (FindingKind.CANCEL_WITHOUT_ORDER, 9, "cancel_requested")
    ]


def test_fills_adding_up_past_the_quantity_are_found_at_the_fill_that_crosses() -> None:
    records = _append(_append(clean(), Filled(9, 2, 100, 1, "e8")), Filled(10, 2, 1, 1, "e9"))

    assert [(f.kind, f.seq) for f in verify(records)] == [(FindingKind.FILL_OVER_QUANTITY, 10)]


def test_a_journal_a_real_gateway_wrote_verifies_clean(tmp_path: Path) -> None:
    path = tmp_path / "demo.db"
    with (tmp_path / "demo.txt").open("w") as shown:
        run_demo(Console(file=shown, width=120), path)
    journal = SqliteJournal(path)
    try:
        records = list(journal.read())
    finally:
        journal.close()
    kinds = {type(e).__name__ for _, e in records}
    assert {"OrderDecided", "Filled", "Cancelled", "HaltApplied"} <= kinds, kinds

    assert verify(records) == []
