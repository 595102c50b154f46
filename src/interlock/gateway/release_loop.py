"""The release loop: venue sends off the journal writer, in journal order.

The journal's commit callback runs on its writer thread; if it called `venue.send` there, a
slow venue would stall every commit and every ack behind it. So the callback only hands
the newest durable sequence number to this loop, and one thread of its own runs the
gateway's release for it: everything handed so far, oldest first (one thread, one queue:
journal order). Hand-overs coalesce: a loop still busy with seq 10 that is handed 11 and
then 12 next releases up to 12 in one go.

A journal without a writer thread (the in-memory one of unit tests and the replay, or a
journal committing inside the caller's `flush`) has no writer to stall: the release then
runs inline, in the thread that made the records durable, so such tests stay
deterministic; a hand-over made from inside a release (a venue callback that halts, whose
cancel commits) is taken by the release already running, after its batch, never nested.
`wait(seq)` returns once everything up to `seq` is released.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

_log = logging.getLogger(__name__)


class ReleaseLoop:
    def __init__(self, release: Callable[[int], None], *, threaded: bool, name: str) -> None:
        """`release(seq)`: release everything handed up to `seq` (never raises here: an
        exception is logged and the loop goes on)."""
        self._release = release
        self.threaded = threaded
        self._name = name
        self._cond = threading.Condition()
        self._target = 0  # newest durable seq handed over
        self._done = 0  # newest seq whose release has run
        self._closed = False
        self._busy = False  # inline: a release is running in this process
        self._thread: threading.Thread | None = None

    def start(self, seq: int) -> None:
        """Records up to `seq` were released before (a recovered journal): start there."""
        with self._cond:
            self._target = max(self._target, seq)
            self._done = max(self._done, seq)
        if self.threaded and self._thread is None:
            self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
            self._thread.start()

    @property
    def done(self) -> int:
        """Everything up to this seq is released."""
        return self._done

    def handed(self, seq: int) -> None:
        """Records up to `seq` are durable: release them (inline, or on the loop's thread)."""
        if not self.threaded:
            self._inline(seq)
            return
        with self._cond:
            if seq > self._target:
                self._target = seq
                self._cond.notify_all()

    def wait(self, seq: int, timeout: float | None) -> bool:
        """Block until everything up to `seq` is released; False on timeout."""
        if self._done >= seq:
            return True
        if threading.current_thread() is self._thread:
            return False  # the loop waiting on itself would never return
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while self._done < seq:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                if self._thread is not None and not self._thread.is_alive():
                    return False
                self._cond.wait(remaining)
        return True

    def close(self, timeout: float = 5.0) -> None:
        """Release what was handed, then stop the thread (bounded by `timeout`)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def _inline(self, seq: int) -> None:
        with self._cond:
            self._target = max(self._target, seq)
            if self._busy:
                return  # the release running takes it after its batch
            self._busy = True
        try:
            while True:
                with self._cond:
                    if self._target <= self._done:
                        return
                    seq = self._target
                self._once(seq)
        finally:
            with self._cond:
                self._busy = False

    def _once(self, seq: int) -> None:
        try:
            self._release(seq)
        except Exception:
            _log.exception("release of durable records up to seq %d failed", seq)
        with self._cond:
            self._done = max(self._done, seq)
            self._cond.notify_all()

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._target <= self._done and not self._closed:
                    self._cond.wait()
                if self._target <= self._done:
                    return  # closed, and nothing left to release
                seq = self._target
            self._once(seq)
