"""MemoryJournal beyond the shared protocol (tests/journal/test_journal_conformance.py):
durability under the test's control, and `reopened()`."""

from __future__ import annotations

from interlock.domain.events import Filled
from interlock.journal import Journal, MemoryJournal


def fill(i: int) -> Filled:
    return Filled(ts=i, order_id=i, qty=1, price=100, exec_id=f"x{i}")


def test_append_numbers_events_from_one_without_making_them_durable() -> None:
    journal: Journal = MemoryJournal()
    assert [journal.append(fill(i)) for i in range(3)] == [1, 2, 3]
    assert (journal.last_seq, journal.durable_seq) == (3, 0)
    assert list(journal.read()) == []


def test_flush_makes_everything_durable_and_calls_back_once_with_the_new_seq() -> None:
    journal = MemoryJournal()
    seen: list[int] = []
    journal.on_durable(seen.append)
    journal.append(fill(1))
    journal.append(fill(2))
    assert journal.flush() == 2
    assert journal.flush() == 2  # nothing new: no second callback
    journal.append(fill(3))
    journal.flush()
    assert seen == [2, 3]


def test_reopened_keeps_only_what_was_durable_and_continues_the_sequence() -> None:
    from interlock.domain.enums import HaltScope
    from interlock.domain.events import HaltApplied, HaltLifted

    j = MemoryJournal()
    j.append(HaltApplied(1, HaltScope.GLOBAL, "", "r", "ops"))
    j.flush()
    j.append(HaltLifted(2, HaltScope.GLOBAL, "", "ops"))  # never made durable: a crash
    again = j.reopened()
    assert [seq for seq, _ in again.read()] == [1]
    assert again.durable_seq == again.last_seq == 1
    assert again.append(HaltLifted(3, HaltScope.GLOBAL, "", "ops")) == 2
