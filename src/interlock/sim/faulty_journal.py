"""A group-commit journal whose store fails on demand: for tests of journal faults.

The real writer (`GroupCommitJournal`: queue, writer thread, retry with backoff, recovery)
over a list standing in for the disk. `break_store(exc)` makes every write and reconnect
raise `exc` until `heal_store()`; `lose_next_ack()` lets the next write commit and then
raise, as a PostgreSQL COMMIT whose acknowledgement died with the connection does.
`stored` is what "the disk" holds, in order: a test compares it with what was acked.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

from interlock.domain.events import Event
from interlock.journal.base import OrderHistory
from interlock.journal.codec import order_id_of
from interlock.journal.group_commit import Batch, GroupCommitJournal


class FaultyJournal(GroupCommitJournal):
    """`Journal` over a list, with a writer thread, whose store breaks when told."""

    _label = "faulty journal"

    def __init__(self, *, max_wait_s: float = 0.0002, max_batch: int = 1024) -> None:
        super().__init__(max_wait_s=max_wait_s, max_batch=max_batch)
        self.stored: list[tuple[int, Event]] = []
        self.tries = 0  # writes and reconnects tried, failed ones included
        self._broken: BaseException | None = None
        self._lose_ack = False
        self._store_lock = threading.Lock()
        self._start(0)
        self._start_writer("faulty-journal-writer")

    def break_store(self, exc: BaseException | None = None) -> None:
        self._broken = exc or OSError(28, "No space left on device")

    def heal_store(self) -> None:
        self._broken = None

    def lose_next_ack(self) -> None:
        self._lose_ack = True

    def read(self, after_seq: int = 0) -> Iterator[tuple[int, Event]]:
        with self._store_lock:
            rows = [r for r in self.stored if r[0] > after_seq]
        yield from rows

    def order_history(self, order_id: int, before_seq: int | None = None) -> OrderHistory:
        bound = 2**63 if before_seq is None else before_seq
        with self._store_lock:
            return [(q, e) for q, e in self.stored if q < bound and order_id_of(e) == order_id]

    def close(self) -> None:
        if not self._closing:
            self._stop_writer()

    def _write(self, batch: Batch) -> None:
        self.tries += 1
        if self._broken is not None:
            raise self._broken
        with self._store_lock:
            self.stored.extend(batch)
        if self._lose_ack:
            self._lose_ack = False
            raise ConnectionError("connection lost during COMMIT (it went through)")

    def _recover(self) -> int:
        self.tries += 1
        if self._broken is not None:
            raise self._broken
        with self._store_lock:
            return self.stored[-1][0] if self.stored else 0
