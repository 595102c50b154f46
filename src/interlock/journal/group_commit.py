"""Group commit, the part every durable journal shares: number and queue on `append`, one
writer drains the queue into batches, a backend writes each batch in one transaction, and
only then does `durable_seq` move, the `on_durable` callbacks run and `flush` return.

`append` only numbers the event and pushes it on a deque (atomic in CPython; the gateway's
lock serializes appends). Linger policy: only after waking from idle, the writer waits for
more records while they keep arriving (the first drain found more than one, then each
100 µs slice brought some), while the batch is under `max_batch`, and never past
`max_wait_s` in total. A lone caller never lingers and pays one commit; a busy one never
lingers either (what queued during the last commit is already a batch).

A failed write makes the journal unavailable, not dead: the batch and everything queued
behind it stay in memory, in order; `status` says why and since when (the `on_status`
callbacks hear it at once: the gateway halts on it); `flush` raises JournalError while it
lasts; `append` still queues (cancels, halts and fills must survive a journal fault). The
writer retries with a bounded backoff (`RETRY_FIRST_S` doubling to `RETRY_MAX_S`). Before
each retry the backend's `_recover` reconnects and says the highest seq the store holds: a
batch whose commit went through but whose acknowledgement was lost (PostgreSQL: the
connection died during COMMIT) is then published, not written twice. Once a write goes
through the journal is available again. The journal fails closed for good (append refuses)
only when it is closed while still unavailable (what it could not write is logged at error
level) or when the store holds fewer records than were published as durable.

A backend subclasses `GroupCommitJournal`, writes a batch in `_write` (raising on failure),
reconnects in `_recover`, may shape batches in `_trim`, and starts the writer with
`_start_writer` (or commits in the caller's thread inside `flush` if it never does; then
each `flush` is the retry).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque

from interlock.domain.events import Event
from interlock.domain.latency import LatencyHistogram
from interlock.errors import JournalError, UnencodableEvent
from interlock.journal.base import DurableCallback, JournalStatus, StatusCallback

Batch = list[tuple[int, Event]]
_LINGER_SLICE_S = 0.0001
RETRY_FIRST_S = 0.01
"""The first wait before writing again after a failure; doubled on each failure after."""
RETRY_MAX_S = 1.0
"""The longest wait between two tries: a store that is back is written to within this."""
_log = logging.getLogger(__name__)


class GroupCommitJournal:
    _label = "journal"  # how logs and errors name this journal

    def __init__(self, *, max_wait_s: float, max_batch: int) -> None:
        if max_batch < 1 or max_wait_s < 0:
            raise ValueError("max_batch must be >= 1 and max_wait_s >= 0")
        self._max_wait_s = max_wait_s
        self._max_batch = max_batch
        self._queue: deque[tuple[int, Event]] = deque()
        self._callbacks: tuple[DurableCallback, ...] = ()
        self._status_callbacks: tuple[StatusCallback, ...] = ()
        self._status = JournalStatus(True)
        self._available = True  # `_status.available`, read on every flush wait
        self._suspect = False  # a write failed: `_recover` before the next one
        self._last_error: BaseException | None = None  # the latest failed try's error
        self._retry_stop = threading.Event()  # set on close: stop waiting to retry
        self._refusal: str | None = None  # set once: why append must now refuse
        self._failure: BaseException | None = None
        self._closing = False
        self._idle = False  # writer is (about to be) asleep: appenders must wake it
        self._wake = threading.Event()
        self._cond = threading.Condition()
        self._sync_lock = threading.RLock()  # no writer thread: one committer at a time
        self._thread: threading.Thread | None = None
        self._last_seq = self._durable_seq = self._released_seq = 0
        self.commit_latency = LatencyHistogram()  # a batch taken to durable: /metrics

    # -- for the backend ----------------------------------------------------------------

    def _write(self, batch: Batch) -> None:
        """Write `batch` in one transaction, durable when this returns; raise if not."""
        raise NotImplementedError

    def _recover(self) -> int:
        """After a failed write: reconnect (raise if the store is still gone) and return
        the highest seq the store holds, so what committed unacknowledged is not written
        twice. The default keeps no connection: it says nothing more is there."""
        return self._durable_seq

    def _trim(self, batch: Batch) -> int:
        """How many of `batch` to write now (the rest leads the next batch)."""
        return len(batch)

    def _start(self, last_seq: int) -> None:
        """The backend holds records up to `last_seq` already."""
        self._last_seq = self._durable_seq = self._released_seq = last_seq

    def _start_writer(self, name: str) -> None:
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _stop_writer(self) -> None:
        """Commit what is queued, then stop the writer (or commit here, if none)."""
        self._refusal = self._refusal or "journal is closed"
        self._retry_stop.set()
        if self._thread is not None:
            self._closing = True
            self._wake.set()
            self._thread.join()
        else:
            self._commit_queued()
            if self._queue and self._failure is None:  # still unavailable: say what is lost
                _log.error(
                    "%s closed while unavailable: %d record(s) from seq %d were never made durable",
                    self._label,
                    len(self._queue),
                    self._queue[0][0],
                )
                self._fail(JournalError(self._status.failure))
        self._closing = True

    # -- the Journal protocol -----------------------------------------------------------

    @property
    def last_seq(self) -> int:
        return self._last_seq

    @property
    def has_writer(self) -> bool:
        """Commits (and the `on_durable` callbacks) run on a writer thread of their own."""
        return self._thread is not None

    @property
    def durable_seq(self) -> int:
        """Newest seq known durable (its `on_durable` callbacks may still be running)."""
        return self._durable_seq

    @property
    def available(self) -> bool:
        return self._available

    @property
    def status(self) -> JournalStatus:
        return self._status

    def on_status(self, callback: StatusCallback) -> None:
        """Run `callback(status)` on every change of availability (from the writer thread,
        or the flushing one without a writer); it must be quick and never call `flush`."""
        self._status_callbacks = (*self._status_callbacks, callback)

    def append(self, event: Event) -> int:
        if self._refusal is not None:
            self._refuse()
        seq = self._last_seq + 1
        self._last_seq = seq
        self._queue.append((seq, event))
        if self._idle:
            self._wake.set()
        return seq

    def on_durable(self, callback: DurableCallback) -> None:
        """Run `callback(seq)` after each commit; it must not call `flush` (the writer would
        wait on itself). A callback that raises is logged and does not stop the journal."""
        self._callbacks = (*self._callbacks, callback)

    def flush(self, timeout: float | None = None) -> int:
        """Wait until all appended so far is durable and its callbacks ran. Without a
        writer thread the commit runs here and `timeout` does not apply."""
        target = self._last_seq
        if self._thread is None:
            self._commit_queued()
        elif threading.current_thread() is self._thread:
            raise JournalError("flush() from an on_durable callback would wait on itself")
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while self._available and self._failure is None and self._released_seq < target:
                if self._thread is None or not self._thread.is_alive():
                    raise JournalError(f"journal writer stopped before seq {target} was durable")
                if self._idle:
                    self._wake.set()
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    raise JournalError(
                        f"journal flush timed out after {timeout}s: "
                        f"durable seq {self._durable_seq} < {target}"
                    )
                self._cond.wait(remaining)
        if self._failure is not None:
            self._refuse()
        if self._released_seq < target:  # left the wait unavailable
            raise JournalError(
                f"journal unavailable, durable seq {self._durable_seq} < {target}: "
                f"{self._status.failure}"
            ) from self._last_error
        return self._durable_seq

    # -- the writer ---------------------------------------------------------------------

    def _commit_queued(self) -> None:
        """No writer thread: commit everything queued, in order, in this thread."""
        with self._sync_lock:
            while self._failure is None and self._queue:
                batch = self._drain(self._max_batch)
                keep = self._trim(batch)
                self._queue.extendleft(reversed(batch[keep:]))
                if not self._commit(batch[:keep]):
                    return

    def _refuse(self) -> None:
        raise JournalError(self._refusal or "journal failed") from self._failure

    def _run(self) -> None:
        try:
            while batch := self._next_batch():
                if not self._commit(batch):
                    return
        except BaseException as exc:  # the writer must never die silently
            self._fail(exc)
            raise

    def _next_batch(self) -> Batch:
        """Sleep until records are queued, then drain and linger; [] once closing."""
        queue = self._queue
        woke = False
        while not queue:
            if self._closing:
                return []
            self._idle = True
            if not queue and not self._closing:  # re-check after publishing `_idle`
                self._wake.wait()
            self._idle = False
            self._wake.clear()
            woke = True
        batch = self._drain(self._max_batch)
        deadline = time.monotonic() + self._max_wait_s
        slice_s = min(_LINGER_SLICE_S, self._max_wait_s)
        arriving = woke and len(batch) > 1  # others came in while the writer woke up
        while arriving and slice_s > 0 and len(batch) < self._max_batch:
            if self._closing or time.monotonic() + slice_s > deadline:
                break
            before = len(batch)
            time.sleep(slice_s)
            batch += self._drain(self._max_batch - before)
            arriving = len(batch) > before
        keep = self._trim(batch)
        if keep < len(batch):  # the rest leads the next batch
            self._queue.extendleft(reversed(batch[keep:]))
            del batch[keep:]
        return batch

    def _drain(self, limit: int) -> Batch:
        """Pop up to `limit` queued records, oldest first."""
        popleft = self._queue.popleft
        return [popleft() for _ in range(min(len(self._queue), limit))]

    def _commit(self, batch: Batch) -> bool:
        """Write `batch`, then publish it as durable. On a failure the journal goes
        unavailable and, on the writer thread, retries until the write goes through (True)
        or the journal is closed or fails for good (False). Without a writer thread the
        batch goes back to the head of the queue for the next `flush` (False)."""
        delay = RETRY_FIRST_S
        t0 = time.perf_counter_ns()
        while True:
            try:
                self._attempt(batch)
                break
            except (_Fatal, UnencodableEvent) as fatal:  # no retry can mend these
                self._fail(fatal)
                return False
            except Exception as exc:
                self._suspect = True
                self._went_down(exc)
                if self._thread is None:
                    self._queue.extendleft(reversed(batch))
                    return False
                if self._retry_stop.wait(delay):  # closing: one last try, then give up
                    try:
                        self._attempt(batch)
                        break
                    except Exception as last:
                        lost = len(batch) + len(self._queue)
                        _log.error(
                            "%s closed while unavailable: %d record(s) from seq %d "
                            "were never made durable",
                            self._label,
                            lost,
                            batch[0][0],
                        )
                        self._fail(last)
                        return False
                delay = min(delay * 2, RETRY_MAX_S)
        self.commit_latency.observe(time.perf_counter_ns() - t0)
        if not self._available:
            self._set_status(JournalStatus(True, "", time.time_ns()))
        return True

    def _attempt(self, batch: Batch) -> None:
        """One try: after a failure reconnect first and publish what the store already
        holds of `batch` (committed, its acknowledgement lost); write the rest; publish."""
        if self._suspect:
            stored = self._recover()
            self._suspect = False
            if stored < batch[0][0] - 1:  # records published as durable are gone
                raise _Fatal(f"store holds seq {stored}, journal published {batch[0][0] - 1}")
            if stored >= batch[0][0]:
                done = min(stored, batch[-1][0])
                _log.warning("%s: seq %d..%d committed before the failure was seen; not "
                             "written again", self._label, batch[0][0], done)  # fmt: skip
                self._publish(done)
                del batch[: done - batch[0][0] + 1]
                if not batch:
                    return
        self._write(batch)
        self._publish(batch[-1][0])

    def _publish(self, seq: int) -> None:
        """Records up to `seq` are durable: say so, run the callbacks, wake `flush`."""
        self._durable_seq = max(self._durable_seq, seq)  # durable from here on
        for callback in self._callbacks:
            try:
                callback(seq)
            except Exception:
                _log.exception("on_durable callback failed for seq %d", seq)
        with self._cond:  # flush() returns once the callbacks (the release) have run
            self._released_seq = max(self._released_seq, seq)
            self._cond.notify_all()

    def _went_down(self, exc: BaseException) -> None:
        self._last_error = exc
        if self._available:
            _log.error("%s unavailable, keeping records in memory and retrying: %r",
                       self._label, exc)  # fmt: skip
            self._set_status(JournalStatus(False, f"{self._label}: {exc!r}", time.time_ns()))

    def _set_status(self, status: JournalStatus) -> None:
        self._status = status
        self._available = status.available
        if status.available:
            _log.warning("%s available again: durable seq %d", self._label, self._durable_seq)
        with self._cond:
            self._cond.notify_all()
        for callback in self._status_callbacks:
            try:
                callback(status)
            except Exception:
                _log.exception("journal status callback failed")

    def _fail(self, exc: BaseException) -> None:
        _log.error("%s failed, refusing further events: %r", self._label, exc)
        self._failure = exc
        self._refusal = f"journal failed, nothing more can be made durable: {exc!r}"
        if self._available:
            self._set_status(JournalStatus(False, self._refusal, time.time_ns()))
        with self._cond:
            self._cond.notify_all()


class _Fatal(Exception):
    """The store lost records already published as durable: no retry can mend that."""
