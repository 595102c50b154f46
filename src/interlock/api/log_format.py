"""Serve's logs: one stdlib handler, as JSON lines or as text for a person at the console.

A record that matters to the people on duty carries a stable `event` name (passed as
`extra={"event": ...}`; docs/operations.md lists them) and its fields: `order_id` on every
decision, `scope`/`target`/`who` on halts, `counterparty` on FIX sessions. JSON gives every
such field as a key; text prints the event name first, then the message.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Literal

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


def configure_logging(fmt: LogFormat) -> None:
    """Interlock's records at info and above to stderr in `fmt` (serve's console)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger("interlock")
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    root.propagate = False
