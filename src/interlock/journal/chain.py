"""The checksum chain every durable record carries, and the check recovery runs on it.

A record's checksum is CRC-32 over its kind, sequence number, time, the previous record's
checksum (0 before the first record) and its body. Because each one folds in the one before,
a changed, swapped, repeated or missing record breaks the chain at the first record
affected, and `ChainCheck` names that record's seq. CRC-32 detects every error burst of up
to 32 bits, so any one damaged byte of a record is always caught; it is not a defence
against someone rewriting the journal on purpose (they can recompute the chain), only
against the disk, the file system and careless hands.

The writer computes it (`link`) on the journal's writer thread, never in `append`: the
gateway's hot path does not pay for it.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterable, Iterator
from typing import Final, TypeGuard

from interlock.domain.events import Event
from interlock.errors import RecoveryError
from interlock.journal.codec import KINDS, decode

Row = tuple[int, object, object, object, object]
"""`(seq, ts, kind, body, crc)` as a backend reads it back: typed only once checked."""

GENESIS: Final = 0
"""The "previous checksum" of a journal's first record."""

_HEAD: Final = struct.Struct("<qqI")  # seq, ts, previous checksum


def _kind_crc(kind: str) -> int:
    """CRC-32 of the kind, length first: where every record's checksum starts."""
    raw = kind.encode("utf-8", "surrogatepass")
    return zlib.crc32(len(raw).to_bytes(4, "little") + raw)


_KIND_CRC: Final = {kind: _kind_crc(kind) for kind in KINDS.values()}


def link(prev: int, seq: int, ts: int, kind: str, body: bytes) -> int:
    """The checksum of the record `(seq, ts, kind, body)` that follows one whose checksum
    is `prev`: CRC-32 over kind (length-prefixed), seq, ts, prev, then body. The kind's
    part is computed once per kind, so a record costs one pack, one join and one crc32."""
    start = _KIND_CRC.get(kind)
    if start is None:  # not a kind this build writes: a damaged or foreign record
        start = _kind_crc(kind)
    return zlib.crc32(_HEAD.pack(seq, ts, prev) + body, start)


class ChainCheck:
    """Walks records in the order read and refuses the first that breaks the sequence or
    the chain. `where` names the journal in every message (its file, or its instance).

    Reading from the start, the first record must be seq 1 with GENESIS before it; a read
    that resumes after seq N starts with record N itself (`first_seq` N + 1, `prev` its
    stored checksum), which is not passed on.
    """

    __slots__ = ("_next", "_prev", "_where")

    def __init__(self, where: str, first_seq: int = 1, prev: int = GENESIS) -> None:
        self._where = where
        self._next = first_seq
        self._prev = prev

    def check(self, seq: int, ts: int, kind: str, body: bytes, crc: int) -> None:
        """Raise RecoveryError unless this record is the next in sequence and its stored
        checksum `crc` is the one its bytes and the previous record's checksum give."""
        if seq != self._next:
            what = "missing" if seq > self._next else "repeated or out of order"
            raise RecoveryError(
                f"{self._where}: record seq {seq} where seq {self._next} was expected "
                f"(records {what}): the journal is damaged; refusing to recover from it"
            )
        if link(self._prev, seq, ts, kind, body) != crc:
            raise RecoveryError(
                f"{self._where}: record seq {seq} fails its checksum (changed on disk, "
                "or the record before it was): the journal is damaged; refusing to "
                "recover from it"
            )
        self._next = seq + 1
        self._prev = crc

    @property
    def last_crc(self) -> int:
        return self._prev


def verified(rows: Iterable[Row], where: str, after_seq: int = 0) -> Iterator[tuple[int, Event]]:
    """Decode `rows` (ordered by seq, from `after_seq` itself when it is > 0) into the
    events `Journal.read(after_seq)` yields, checking each against the chain first: a
    damaged journal raises RecoveryError naming `where` and the seq, never yields a wrong
    or misplaced record."""
    it = iter(rows)
    try:
        yield from _verified(it, where, after_seq)
    finally:  # a refusal mid-way must not leave the reader's cursor (and file) open
        close = getattr(it, "close", None)
        if close is not None:
            close()


def _verified(it: Iterator[Row], where: str, after_seq: int) -> Iterator[tuple[int, Event]]:
    check = ChainCheck(where)
    if after_seq > 0:
        first = next(it, None)
        if first is None:
            return
        seq, crc = first[0], first[4]
        if seq != after_seq or not is_crc(crc):
            raise RecoveryError(
                f"{where}: record seq {after_seq} is missing or damaged (found seq {seq}): "
                "the journal is damaged; refusing to recover from it"
            )
        check = ChainCheck(where, after_seq + 1, crc)
    for seq, ts, kind, body, crc in it:
        if not (isinstance(ts, int) and isinstance(kind, str) and isinstance(body, bytes)):
            raise RecoveryError(
                f"{where}: record seq {seq} is damaged (a column holds the wrong type): "
                "refusing to recover from it"
            )
        if not is_crc(crc):
            raise RecoveryError(
                f"{where}: record seq {seq} has no valid checksum ({crc!r}): the journal is "
                "damaged; refusing to recover from it"
            )
        check.check(seq, ts, kind, body, crc)
        try:
            event = decode(kind, body)
        except RecoveryError as exc:
            raise RecoveryError(f"{where}: journal record {seq}: {exc}") from exc
        yield seq, event


def is_crc(value: object) -> TypeGuard[int]:
    """A stored value that can be a checksum: an unsigned 32-bit integer."""
    return isinstance(value, int) and 0 <= value <= 0xFFFFFFFF
