"""The journal port: append-only, sequenced, durable in groups.

Appends are serialised by the caller (the gateway's lock; that includes appends made
from inside `on_durable` callbacks on the writer thread), so `append` is cheap and
lock-free: it assigns the next sequence number and queues the event; encoding and fsync
happen on the committing side. After each commit the journal calls `on_durable(seq)`
with the highest sequence now on disk: that call is what releases orders to venues
(invariant 2). `durable_seq` advances as soon as a record is on disk, before the callbacks;
`flush()` returns only after they ran. Callbacks must never call `flush`.

Availability: a journal whose store fails (disk full, I/O error, database gone) does not
lose what it holds: it says so (`available` False, `status` naming the failure and since
when, `on_status` callbacks), keeps accepting appends in memory, in order, and retries the
write until the store takes it; meanwhile `flush` raises JournalError. Only a closed journal
(or one whose store lost records it had already said were durable) refuses `append`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol

from interlock.domain.events import Event

DurableCallback = Callable[[int], None]
OrderHistory = list[tuple[int, Event]]
"""One order's journaled records, (seq, event), oldest first (`Journal.order_history`)."""


@dataclass(frozen=True, slots=True)
class JournalStatus:
    """Whether the journal can make records durable now, and since when."""

    available: bool
    failure: str = ""  # why not, while unavailable; "" when available
    since_ns: int = 0  # wall clock (ns) of the last change; 0: available since it opened


StatusCallback = Callable[[JournalStatus], None]


class Journal(Protocol):
    @property
    def last_seq(self) -> int:
        """Sequence of the newest appended event (durable or not); 0 when empty."""
        ...

    @property
    def durable_seq(self) -> int:
        """Sequence of the newest event known to be on disk."""
        ...

    @property
    def available(self) -> bool:
        """False while the store refuses writes (records queue in memory meanwhile)."""
        ...

    @property
    def status(self) -> JournalStatus:
        """`available`, with the failure and the time it last changed."""
        ...

    def on_status(self, callback: StatusCallback) -> None:
        """Register the callback run on every change of `status` (from the writer thread,
        or the flushing one); it must be quick and never call `flush`."""
        ...

    def append(self, event: Event) -> int:
        """Queue `event`; return its sequence number. Never blocks on I/O. Accepted while
        unavailable (kept in memory, in order); refused (JournalError) once closed."""
        ...

    def on_durable(self, callback: DurableCallback) -> None:
        """Register the callback run after every commit, from the committing thread."""
        ...

    def flush(self, timeout: float | None = None) -> int:
        """Block until everything appended so far is durable; return `durable_seq`.

        Raises JournalError if the journal is (or becomes) unavailable before that, has
        failed, or the timeout passed.
        """
        ...

    def read(self, after_seq: int = 0) -> Iterator[tuple[int, Event]]:
        """Every durable event with sequence > `after_seq`, in order."""
        ...

    def order_history(
        self, order_id: int, before_seq: int | None = None
    ) -> list[tuple[int, Event]]:
        """Every durable event about order `order_id` (its accepted decision, fills, cancels,
        rejects, routing), in order, only those with sequence < `before_seq` when given (a
        fold asks for what it has read so far). Read through the journal's order index:
        what the gateway asks for an ended order it no longer keeps in memory."""
        ...

    def close(self) -> None:
        """Flush what is queued, stop the committer, release the file."""
        ...
