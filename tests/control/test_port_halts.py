"""HaltPort, against every backend: halt records put, listed and lifted, and confirmations
that belong to one record: a record replaced (the same scope and target written again) or
lifted has none, and a late confirmation of it counts for nothing.
"""

from __future__ import annotations

from plane_backends import Backend

from interlock.control.plane import HaltConfirmed, HaltPut, HaltRecord, HaltRemoved
from interlock.domain.enums import HaltScope


def halt(target: str = "AAPL", ts: int = 1) -> HaltRecord:
    return HaltRecord(HaltScope.SYMBOL, target, "runaway", "ops", ts)


def test_halts_are_put_listed_and_removed(backend: Backend) -> None:
    h = halt()
    backend.plane.put_halt(h)
    assert backend.plane.halts() == [h]
    assert backend.plane.remove_halt(HaltScope.SYMBOL, "AAPL", "ops") is True
    assert backend.plane.remove_halt(HaltScope.SYMBOL, "AAPL", "ops") is False
    assert backend.plane.halts() == []
    [removed] = backend.events_of(HaltRemoved)
    assert (removed.scope, removed.target, removed.who) == (HaltScope.SYMBOL, "AAPL", "ops")
    backend.settle()
    assert backend.of(HaltPut) == [HaltPut(h)] and len(backend.of(HaltRemoved)) == 1


def test_halts_of_other_scopes_and_targets_are_separate_records(backend: Backend) -> None:
    records = [halt("AAPL"), halt("MSFT"), HaltRecord(HaltScope.ACCOUNT, "AAPL", "r", "ops", 1)]
    for h in records:
        backend.plane.put_halt(h)
    assert sorted(backend.plane.halts(), key=str) == sorted(records, key=str)
    backend.plane.remove_halt(HaltScope.SYMBOL, "AAPL", "ops")
    assert sorted(backend.plane.halts(), key=str) == sorted(records[1:], key=str)


def test_confirmations_belong_to_one_halt_record(backend: Backend) -> None:
    first = halt(ts=1)
    backend.plane.put_halt(first)
    backend.plane.confirm_halt("gw-1", first)
    backend.plane.confirm_halt("gw-2", first, pending_cancel=3)
    assert backend.plane.halt_confirmations(first) == {"gw-1", "gw-2"}
    confirmed = backend.events_of(HaltConfirmed, 2)
    assert [(e.instance_id, e.halt, e.pending_cancel) for e in confirmed] == [
        ("gw-1", first, 0), ("gw-2", first, 3),
    ]  # fmt: skip


def test_confirmations_of_a_replaced_record_are_empty_and_late_ones_are_ignored(
    backend: Backend,
) -> None:
    first = halt(ts=1)
    backend.plane.put_halt(first)
    backend.plane.confirm_halt("gw-1", first)
    second = halt(ts=2)  # the same scope and target written again: a new record
    backend.plane.put_halt(second)
    assert backend.plane.halt_confirmations(first) == frozenset()
    assert backend.plane.halt_confirmations(second) == frozenset()
    backend.plane.confirm_halt("gw-3", first)  # late, for the replaced record: ignored
    assert backend.plane.halt_confirmations(first) == frozenset()
    assert backend.plane.halt_confirmations(second) == frozenset()
    backend.plane.confirm_halt("gw-3", second)
    assert backend.plane.halt_confirmations(second) == {"gw-3"}
    backend.settle()
    assert [(e.instance_id, e.halt) for e in backend.of(HaltConfirmed)] == [
        ("gw-1", first), ("gw-3", second),
    ]  # fmt: skip


def test_confirmations_of_a_lifted_or_never_put_record_are_empty(backend: Backend) -> None:
    h = halt()
    backend.plane.confirm_halt("gw-1", h)  # never put: nothing to confirm
    assert backend.plane.halt_confirmations(h) == frozenset()
    backend.plane.put_halt(h)
    backend.plane.confirm_halt("gw-1", h)
    backend.plane.remove_halt(h.scope, h.target, "ops")
    assert backend.plane.halt_confirmations(h) == frozenset()
    backend.plane.confirm_halt("gw-2", h)  # after the lift: ignored
    assert backend.plane.halt_confirmations(h) == frozenset()
    backend.settle()
    assert [e.instance_id for e in backend.of(HaltConfirmed)] == ["gw-1"]
