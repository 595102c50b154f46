"""The journal port: append-only, sequenced, durable in groups.

Appends are serialised by the caller (the gateway's lock; that includes appends made
from inside `on_durable` callbacks on the writer thread), so `append` is cheap and
lock-free: it assigns the next sequence number and queues the event; encoding and fsync
happen on the committing side. After each commit the journal calls `on_durable(seq)`
with the highest sequence now on disk: that call is what releases orders to venues
(invariant 2). `durable_seq` advances as soon as a record is on disk, before the callbacks;
`flush()` returns only after they ran. Callbacks must never call `flush`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Protocol

from interlock.domain.events import Event

DurableCallback = Callable[[int], None]


class Journal(Protocol):
    @property
    def last_seq(self) -> int:
        """Sequence of the newest appended event (durable or not); 0 when empty."""
        ...

    @property
    def durable_seq(self) -> int:
        """Sequence of the newest event known to be on disk."""
        ...

    def append(self, event: Event) -> int:
        """Queue `event`; return its sequence number. Never blocks on I/O."""
        ...

    def on_durable(self, callback: DurableCallback) -> None:
        """Register the callback run after every commit, from the committing thread."""
        ...

    def flush(self, timeout: float | None = None) -> int:
        """Block until everything appended so far is durable; return `durable_seq`.

        Raises JournalError if the journal has failed or the timeout passed.
        """
        ...

    def read(self, after_seq: int = 0) -> Iterator[tuple[int, Event]]:
        """Every durable event with sequence > `after_seq`, in order."""
        ...

    def close(self) -> None:
        """Flush what is queued, stop the committer, release the file."""
        ...
