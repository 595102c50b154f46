"""Append-only, sequenced, group-committed journal of Interlock's events."""

from interlock.journal.base import Journal, JournalStatus
from interlock.journal.codec import decode, encode
from interlock.journal.memory import MemoryJournal
from interlock.journal.sqlite import SqliteJournal

__all__ = ["Journal", "JournalStatus", "MemoryJournal", "SqliteJournal", "decode", "encode"]
