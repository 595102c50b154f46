"""Serve's logs: one stdlib handler, as JSON lines or as text for a person at the console.

A record that matters to the people on duty carries a stable `event` name (passed as
`extra={"event": ...}`; docs/operations.md lists them) and its fields: `order_id` on every
decision, `scope`/`target`/`who` on halts, `counterparty` on FIX sessions. JSON gives every
such field as a key; text prints the event name first, then the message.

No write happens on the thread that logs: serve logs a line for every decision, and a
console or pipe that is slow or full must never hold an order. Records go into a bounded
queue (a full queue drops the record and counts it in `dropped`, it never blocks) and
one thread of their own writes them out, in order; `atexit` drains it.
"""

from __future__ import annotations

import atexit
import json
import logging
import logging.handlers
import queue
import sys
import time
from typing import Literal, TextIO

LogFormat = Literal["json", "text"]
FIELDS = ("order_id", "code", "seq", "scope", "target", "who", "reason", "counterparty",
          "detector", "alert", "halt_scope", "build_digest")  # fmt: skip
"""The structured fields a record may carry, in the order JSON writes them."""


def _ts(record: logging.LogRecord) -> str:
    t = time.gmtime(record.created)
    return time.strftime("%Y-%m-%dT%H:%M:%S", t) + f".{int(record.msecs):03d}Z"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, object] = {
            "ts": _ts(record),
            "level": record.levelname.lower(),
            "event": getattr(record, "event", "log"),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for name in FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                out[name] = value
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        event = getattr(record, "event", None)
        head = f"{_ts(record)} {record.levelname:<7} {event or record.name}"
        text = f"{head}: {record.getMessage()}"
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return text


QUEUE_RECORDS = 100_000  # about a second and a half of decisions at full rate


class NeverBlockingHandler(logging.handlers.QueueHandler):
    """Hands records to the writer thread; a full queue drops the record, never waits."""

    def __init__(self, records: queue.Queue[logging.LogRecord]) -> None:
        super().__init__(records)
        self.dropped = 0

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        record.msg = record.getMessage()  # the arguments as they are now, not when written
        record.args = None
        return record

    def enqueue(self, record: logging.LogRecord) -> None:
        try:
            self.queue.put_nowait(record)
        except queue.Full:
            self.dropped += 1


class _Writer(logging.handlers.QueueListener):
    """The writer thread. Its stop waits (a bounded time) for room in a full queue to ask
    the thread to end, where the stdlib's raises `queue.Full`."""

    STOP_WAIT_S = 5.0

    def enqueue_sentinel(self) -> None:
        self.queue.put(self._sentinel, timeout=self.STOP_WAIT_S)  # type: ignore[attr-defined]

    def stop(self) -> None:
        try:
            super().stop()
        except queue.Full:  # a console stalled for good: leave the thread, never hang exit
            self._thread = None


_listener: logging.handlers.QueueListener | None = None


def configure_logging(fmt: LogFormat, stream: TextIO | None = None) -> NeverBlockingHandler:
    """Interlock's records at info and above to `stream` (stderr: serve's console) in
    `fmt`, written by a thread of their own (see the module's docstring)."""
    global _listener
    writer = logging.StreamHandler(stream or sys.stderr)
    writer.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    stop_logging()
    records: queue.Queue[logging.LogRecord] = queue.Queue(QUEUE_RECORDS)
    handler = NeverBlockingHandler(records)
    root = logging.getLogger("interlock")
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    root.propagate = False
    _listener = _Writer(records, writer)
    _listener.start()
    return handler


def stop_logging() -> None:
    """Write out what is queued and stop the writer thread (at exit, or to reconfigure)."""
    global _listener
    if _listener is not None:
        _listener.stop()
        _listener = None


atexit.register(stop_logging)
