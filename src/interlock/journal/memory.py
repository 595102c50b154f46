"""An in-memory journal for unit and property tests: the protocol without a disk.

Appended events become durable only on `flush()`, which then runs the `on_durable`
callbacks, so a test decides exactly when "the disk" catches up and can assert that
nothing is released before. `fail()` stands in for a disk fault: the journal is then
unavailable (appends still queue, `flush` raises) until `heal()`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from interlock.domain.events import Event
from interlock.errors import JournalError
from interlock.journal.base import DurableCallback, JournalStatus, OrderHistory, StatusCallback
from interlock.journal.codec import order_id_of


class MemoryJournal:
    """Single-threaded `Journal`: a list of events and a durable watermark."""

    def __init__(self) -> None:
        self._events: list[Event] = []  # event with sequence n sits at index n - 1
        self._durable = 0
        self._callbacks: list[DurableCallback] = []
        self._status_callbacks: list[StatusCallback] = []
        self._status = JournalStatus(True)
        self._failure: BaseException | None = None
        self._closed = False
        self._by_order: dict[int, list[int]] = {}  # order id -> seqs: `order_history`'s index
        self._indexed = 0  # events indexed so far (lazily: appends pay nothing for it)

    @property
    def available(self) -> bool:
        return self._status.available

    @property
    def status(self) -> JournalStatus:
        return self._status

    def on_status(self, callback: StatusCallback) -> None:
        self._status_callbacks.append(callback)

    @property
    def last_seq(self) -> int:
        return len(self._events)

    @property
    def durable_seq(self) -> int:
        return self._durable

    def append(self, event: Event) -> int:
        if self._closed:
            raise JournalError("journal is closed")
        self._events.append(event)
        return len(self._events)

    def on_durable(self, callback: DurableCallback) -> None:
        self._callbacks.append(callback)

    def flush(self, timeout: float | None = None) -> int:
        """Make everything appended durable and run the callbacks; `timeout` is unused."""
        self._check_usable()
        target = len(self._events)
        if target > self._durable:
            self._durable = target
            for callback in list(self._callbacks):
                callback(target)
        return self._durable

    def read(self, after_seq: int = 0) -> Iterator[tuple[int, Event]]:
        start = max(after_seq, 0)
        yield from enumerate(self._events[start : self._durable], start=start + 1)

    def order_history(self, order_id: int, before_seq: int | None = None) -> OrderHistory:
        """One order's durable events; the index is brought up to date on each call."""
        events, by_order = self._events, self._by_order
        for seq in range(self._indexed + 1, self._durable + 1):
            oid = order_id_of(events[seq - 1])
            if oid is not None:
                by_order.setdefault(oid, []).append(seq)
        self._indexed = max(self._indexed, self._durable)
        bound = self._durable + 1 if before_seq is None else min(before_seq, self._durable + 1)
        return [(seq, events[seq - 1]) for seq in by_order.get(order_id, ()) if seq < bound]

    def reopened(self) -> MemoryJournal:
        """A new journal holding this one's durable events, as a restarted process finds
        its file: what was never made durable is gone. Works on a closed journal."""
        again = MemoryJournal()
        again._events = self._events[: self._durable]
        again._durable = len(again._events)
        return again

    def close(self) -> None:
        if not self._closed and self._failure is None:
            self.flush()
        self._closed = True

    def fail(self, error: BaseException) -> None:
        """Simulate a disk fault: nothing more becomes durable and `flush` raises until
        `heal()`; appends are still kept, in order, as the durable journals keep them."""
        self._failure = error
        self._set(JournalStatus(False, f"memory journal: {error!r}", time.time_ns()))

    def heal(self) -> None:
        """The disk is back: the next `flush` makes the backlog durable."""
        self._failure = None
        self._set(JournalStatus(True, "", time.time_ns()))

    def _set(self, status: JournalStatus) -> None:
        self._status = status
        for callback in list(self._status_callbacks):
            callback(status)

    def _check_usable(self) -> None:
        if self._failure is not None:
            raise JournalError(f"journal failed: {self._failure}") from self._failure
