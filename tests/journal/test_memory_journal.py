"""MemoryJournal: the protocol's semantics, with durability under the test's control."""

from __future__ import annotations

import pytest

from interlock.domain.events import Filled
from interlock.errors import JournalError
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


def test_read_returns_durable_events_after_the_given_seq_in_order() -> None:
    journal = MemoryJournal()
    for i in range(1, 5):
        journal.append(fill(i))
    journal.flush()
    journal.append(fill(5))  # not durable: not read
    assert list(journal.read(2)) == [(3, fill(3)), (4, fill(4))]
    assert [seq for seq, _ in journal.read()] == [1, 2, 3, 4]


def test_after_fail_append_and_flush_raise_and_nothing_more_becomes_durable() -> None:
    journal = MemoryJournal()
    journal.append(fill(1))
    journal.fail(OSError("disk full"))
    with pytest.raises(JournalError) as caught:
        journal.flush()
    assert isinstance(caught.value.__cause__, OSError)
    with pytest.raises(JournalError):
        journal.append(fill(2))
    assert journal.durable_seq == 0
    journal.close()  # does not raise


def test_close_flushes_and_then_refuses_appends() -> None:
    journal = MemoryJournal()
    journal.append(fill(1))
    journal.close()
    journal.close()
    assert journal.durable_seq == 1
    with pytest.raises(JournalError, match="closed"):
        journal.append(fill(2))


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
