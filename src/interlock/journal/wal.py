"""Read a SQLite `-wal` file ourselves, before SQLite does, to tell a torn tail from damage.

SQLite replays its write-ahead log frame by frame and stops, without a word, at the first
frame whose salt or cumulative checksum is wrong (https://sqlite.org/fileformat2.html,
"WAL file format"). That is right for a torn tail, the normal SIGKILL or power-loss case:
the last transaction was never acknowledged, and recovery goes back to the last whole
commit. It is wrong when one damaged frame sits in the middle: every transaction committed
after it vanishes too. So before the journal opens the file (opening may checkpoint and
reset the WAL, and the evidence with it) `scan_wal` walks the frames:

- up to the first bad frame, exactly as SQLite does: salts equal to the header's, a page
  number, and the cumulative checksum;
- after it, each later frame of the same salts is checked against the checksum stored in
  the frame before it (or the one computed through it, if only that stored value is hit):
  a frame that checks out is genuine, not stale, and a genuine *commit* frame means a
  transaction committed after the damage. That is `WalDamage`, and `check_wal` refuses.

Stale frames from before the WAL was last restarted carry other salts and are ignored, as
SQLite ignores them. A damaged header (SQLite then ignores the whole WAL) in front of
frames is damage too. A file shorter than a header holds nothing committed.
Limit: on power loss SQLite's frames of the last, unacknowledged transaction can reach the
disk out of order; a lost middle frame before its own commit frame then also refuses (a
person decides), never recovers silently.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from typing import Final

from interlock.errors import RecoveryError

_MAGIC: Final = 0x377F0682  # low bit set: checksum words are big-endian
_VERSION: Final = 3007000
_HEADER: Final = struct.Struct(">8I")  # magic, version, page size, ckpt seq, salts, checksum
_FRAME: Final = struct.Struct(">6I")  # page, commit size (0: not a commit), salts, checksum
_MASK: Final = 0xFFFFFFFF


@dataclass(frozen=True, slots=True)
class WalDamage:
    """A damaged frame (or header) at `offset` with `lost_commits` genuine commit frames
    after it, the first at `first_lost_offset`: transactions SQLite would silently drop."""

    path: str
    offset: int
    lost_commits: int
    first_lost_offset: int
    what: str

    def __str__(self) -> str:
        if not self.lost_commits:
            return f"{self.path}: {self.what} at byte offset {self.offset}, and frames follow it"
        return (
            f"{self.path}: {self.what} at byte offset {self.offset}, yet {self.lost_commits} "
            f"committed transaction(s) follow it (the first commit frame at byte offset "
            f"{self.first_lost_offset}): SQLite would silently drop them all"
        )


@dataclass(frozen=True, slots=True)
class WalScan:
    """What `scan_wal` found: `valid_end` is the byte offset just past the last whole
    commit SQLite will replay; `torn_bytes` what lies after it (a torn tail, stale frames,
    or the damage)."""

    size: int
    valid_end: int
    damage: WalDamage | None

    @property
    def torn_bytes(self) -> int:
        return self.size - self.valid_end


def scan_wal(path: str) -> WalScan:
    """Walk the WAL at `path` (absent or empty: nothing to replay). OSError if unreadable."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return WalScan(0, 0, None)
    size = len(data)
    if size < _HEADER.size:
        return WalScan(size, 0, None)
    magic, version, page_size, _, salt1, salt2, c1, c2 = _HEADER.unpack_from(data)
    big = bool(magic & 1)
    sized = 512 <= page_size <= 65536 and page_size & (page_size - 1) == 0
    header_ok = (
        magic & ~1 == _MAGIC
        and version == _VERSION
        and sized
        and _checksum(data[:24], 0, 0, big) == (c1, c2)
    )
    if header_ok:
        return _frames(path, data, page_size, big, (salt1, salt2), (c1, c2), bad=None)
    if size == _HEADER.size:
        return WalScan(size, 0, None)
    if not sized:  # the frames cannot even be found: assume the worst
        what = "the WAL header is damaged (page size unreadable)"
        return WalScan(size, 0, WalDamage(path, 0, 0, _HEADER.size, what))
    salts = _FRAME.unpack_from(data, _HEADER.size)[2:4] if size >= 56 else (salt1, salt2)
    return _frames(path, data, page_size, big, salts, (c1, c2), bad=0)


def _frames(
    path: str,
    data: bytes,
    page_size: int,
    big: bool,
    salts: tuple[int, int],
    seed: tuple[int, int],
    bad: int | None,
) -> WalScan:
    """The frame walk; `bad=0` when the header itself is damaged (SQLite replays nothing)."""
    size = len(data)
    frame = _FRAME.size + page_size
    running = prev_stored = seed  # SQLite's cumulative checksum | the last stored one
    valid_end = _HEADER.size if bad is None else 0
    what = "the WAL header is damaged (SQLite then ignores every frame)"
    lost = first_lost = 0
    for off in range(_HEADER.size, size - frame + 1, frame):
        pgno, commit, s1, s2, f1, f2 = _FRAME.unpack_from(data, off)
        payload = data[off : off + 8] + data[off + _FRAME.size : off + frame]
        stored = (f1, f2)
        computed = _checksum(payload, *running, big)
        if bad is None:
            if pgno != 0 and (s1, s2) == salts and computed == stored:
                if commit:
                    valid_end = off + frame
            else:
                bad = off
                why = "has another salt" if (s1, s2) != salts else "fails its checksum"
                what = f"WAL frame {(off - _HEADER.size) // frame + 1} {why}"
            running = computed
        else:
            genuine = (
                pgno != 0
                and (s1, s2) == salts
                and stored in (computed, _checksum(payload, *prev_stored, big))
            )
            running = stored if genuine else computed
            if genuine and commit:
                lost += 1
                first_lost = first_lost or off
        prev_stored = stored
    damage = WalDamage(path, bad, lost, first_lost, what) if bad is not None and lost else None
    return WalScan(size, valid_end, damage)


def check_wal(path: str) -> None:
    """Refuse (RecoveryError naming the file and the byte offset) a WAL with committed
    transactions after a damaged frame; a torn tail passes (SQLite recovers to the last
    whole commit)."""
    try:
        scan = scan_wal(path)
    except OSError as exc:
        raise RecoveryError(f"cannot read {path}: {exc}") from exc
    if scan.damage is not None:
        raise RecoveryError(
            f"{scan.damage}. Refusing to open the journal: restore it from a copy, or move "
            f"{os.path.basename(path)} aside to start from the records before the damage "
            "(losing those after it)"
        )


def _checksum(buf: bytes, s0: int, s1: int, big: bool) -> tuple[int, int]:
    """SQLite's WAL checksum of `buf` (a multiple of 8 bytes), continuing from (s0, s1)."""
    words = struct.unpack(f"{'>' if big else '<'}{len(buf) // 4}I", buf)
    it = iter(words)
    for a, b in zip(it, it, strict=True):
        s0 = (s0 + a + s1) & _MASK
        s1 = (s1 + b + s0) & _MASK
    return s0, s1
