"""A journal whose store fails: unavailable, every record kept in order, retried until the
store takes it, nothing written twice (sim/faulty_journal.py: the real group-commit writer
over a list that breaks on demand)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from interlock.domain.events import Filled
from interlock.errors import JournalError
from interlock.journal.base import JournalStatus
from interlock.journal.group_commit import RETRY_MAX_S
from interlock.sim.faulty_journal import FaultyJournal
from interlock.sim.serve_fleet import wait_until


def fill(i: int) -> Filled:
    return Filled(ts=i, order_id=i, qty=1, price=100, exec_id=f"x{i}")


def wait_for(cond: Callable[[], bool], timeout: float = 5.0, what: str = "condition") -> None:
    wait_until(cond, timeout, what, poll_s=0.002)  # the shared poll, polled finely


@pytest.fixture
def journal() -> Iterator[FaultyJournal]:
    j = FaultyJournal()
    yield j
    j.heal_store()
    j.close()


def test_a_failed_write_keeps_every_record_in_order_and_retries_until_the_store_takes_it(
    journal: FaultyJournal,
) -> None:
    seen: list[JournalStatus] = []
    durable: list[int] = []
    journal.on_status(seen.append)
    journal.on_durable(durable.append)
    for i in range(1, 4):
        journal.append(fill(i))
    assert journal.flush(timeout=5) == 3 and journal.available
    journal.break_store()
    for i in range(4, 7):
        assert journal.append(fill(i)) == i  # still taken: kept in memory, in order
    wait_for(lambda: not journal.available, what="the journal to say it is unavailable")
    assert "No space left" in journal.status.failure and journal.status.since_ns > 0
    with pytest.raises(JournalError, match="unavailable"):
        journal.flush(timeout=5)
    journal.append(fill(7))
    tries = journal.tries
    wait_for(lambda: journal.tries >= tries + 2, what="the writer to retry")
    assert journal.durable_seq == 3
    journal.heal_store()
    wait_for(lambda: journal.available, RETRY_MAX_S + 2, "the journal to come back")
    assert journal.flush(timeout=5) == 7
    assert [s for s, _ in journal.stored] == list(range(1, 8))  # each once, in order
    assert [e for _, e in journal.read()] == [fill(i) for i in range(1, 8)]
    assert [s.available for s in seen] == [False, True]
    assert durable[-1] == 7


def test_a_commit_whose_acknowledgement_was_lost_is_not_written_again(
    journal: FaultyJournal,
) -> None:
    journal.append(fill(1))
    journal.flush(timeout=5)
    journal.lose_next_ack()  # the batch commits, then the connection dies: "failed"
    for i in range(2, 5):
        journal.append(fill(i))
    wait_for(lambda: journal.durable_seq == 4, RETRY_MAX_S + 2, "the lost ack to be recovered")
    journal.append(fill(5))
    assert journal.flush(timeout=5) == 5
    assert [s for s, _ in journal.stored] == [1, 2, 3, 4, 5]  # nothing duplicated


def test_closing_while_unavailable_gives_up_and_says_what_was_not_made_durable(
    journal: FaultyJournal, caplog: pytest.LogCaptureFixture
) -> None:
    journal.append(fill(1))
    journal.flush(timeout=5)
    journal.break_store()
    journal.append(fill(2))
    wait_for(lambda: not journal.available, what="unavailable")
    journal.close()  # bounded: one last try, then it stops
    assert "were never made durable" in caplog.text
    with pytest.raises(JournalError):
        journal.append(fill(3))
    assert [s for s, _ in journal.stored] == [1]
