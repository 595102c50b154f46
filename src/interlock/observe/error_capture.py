"""Error-level log records become pre-open alerts, each acknowledgeable by a person.

Knight's 97 warnings were e-mails nobody read. Here a component that logs at ERROR or
above on an `interlock` logger (a journal fault, a failed halt, a venue session lost) is
heard by the readiness gate: `serve` installs this handler on the `interlock` logger, so
nothing has to remember to raise an alert as well as log.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from interlock.observe.readiness import PreOpenGate

Clock = Callable[[], int]


class ErrorCapture(logging.Handler):
    """Feeds every record at `level` or above to `gate.warn(ts, logger name, message)`."""

    def __init__(self, gate: PreOpenGate, clock: Clock, level: int = logging.ERROR) -> None:
        super().__init__(level)
        self.gate = gate
        self.clock = clock

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
        except Exception:  # a bad format string must not hide the record
            text = str(record.msg)
        try:
            self.gate.warn(self.clock(), record.name, text[:500])
        except Exception:
            self.handleError(record)


def install(gate: PreOpenGate, clock: Clock, logger: str = "interlock") -> ErrorCapture:
    """Install a capture on `logger` (and so on every `interlock.*` logger); `remove` it."""
    handler = ErrorCapture(gate, clock)
    logging.getLogger(logger).addHandler(handler)
    return handler


def remove(handler: ErrorCapture, logger: str = "interlock") -> None:
    logging.getLogger(logger).removeHandler(handler)
