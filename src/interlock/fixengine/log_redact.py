"""Blank the Password (554) of Logons in QuickFIX's message log, in place.

QuickFIX's FileLog writes every message as it arrives, a Logon's Password (the desk's
trading key) included, and its Python binding cannot replace the Log (the class is
abstract there, with no director). The acceptor's `fromAdmin` runs after the line is
written and flushed, so it calls `redact_passwords` first: each Password's bytes become
'*', same length, so QuickFIX's append-only stream is undisturbed and the line still
parses. Only the file's tail is read: a Logon is among the last lines when it runs.
"""

from __future__ import annotations

import re
from pathlib import Path

_PASSWORD = re.compile(rb"\x01554=([^\x01\n]+)")
TAIL_BYTES = 1 << 16


def redact_passwords(log_dir: Path, counterparty: str, tail_bytes: int = TAIL_BYTES) -> int:
    """Blank every Password in the tail of `counterparty`'s message logs; how many."""
    count = 0
    for path in log_dir.glob(f"*-{counterparty}.messages.current.log"):
        with path.open("r+b") as f:
            end = f.seek(0, 2)
            start = max(0, end - tail_bytes)
            f.seek(start)
            data = f.read(end - start)
            for found in _PASSWORD.finditer(data):
                value = found.group(1)
                if value.strip(b"*"):
                    f.seek(start + found.start(1))
                    f.write(b"*" * len(value))
                    count += 1
    return count
