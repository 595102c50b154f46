"""Every ack comes after the fsync that made its record durable, seen from the kernel.

A SIGKILL cannot tell `synchronous = FULL` from `OFF` or `NORMAL`: the kernel keeps the
page cache of a killed process, so a kill test passes either way, and every other
journal test did. A power cut is what loses unsynced writes, so this watches the syscalls
instead: a child gateway over a SQLite journal runs under `strace -f` (write, pwrite64,
fsync, fdatasync; `-y` names each fd's file), submits orders and writes each ack to its
stdout. The rule, per ack: the first write to the journal's WAL holding its record (its
client order id, zero-padded so one id is never part of another, sits in the page
written) ended before some fsync/fdatasync of the WAL began, and that sync ended before
the ack was written. With `synchronous = OFF` there is no sync at all; with `NORMAL` in
WAL mode SQLite syncs only at checkpoints: both go red.
"""

from __future__ import annotations

import re
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from interlock.journal.sqlite import SqliteJournal

ORDERS = 200
CHILD = r"""
import os, sys
from interlock.journal.sqlite import SqliteJournal
from interlock.sim.harness import DESK_KEY, build, high_rate

h = build(high_rate(), journal=SqliteJournal(sys.argv[1]))

def acker(cid):
    return lambda d: os.write(1, f"ACK {cid} {d.seq}\n".encode())  # one write(2) per ack

n = 0
while n < int(sys.argv[2]):
    for _ in range(1 + n % 7):  # bursts of 1 to 7: batches of several records, and of one
        n += 1
        cid = f"fsync-{n:06d}"
        h.gateway.submit(h.order(client_order_id=cid, quantity=1 + n % 50), DESK_KEY, acker(cid))
    if n % 3:
        h.journal.flush()  # now and then the writer catches up; otherwise it lingers
h.journal.flush()
h.gateway.close()
"""
_LINE = re.compile(r"^(\d+) +(.*)$")
_CALL = re.compile(r"^(\w+)\((\d+)<([^>]*)>")
_RESUMED = re.compile(r"^<\.\.\. (\w+) resumed>")
_CID = re.compile(rb"fsync-\d{6}")


@dataclass
class Call:
    """One syscall as strace saw it: where in the trace it began and ended."""

    name: str
    path: str
    text: str
    begin: int
    end: int = -1


def parse(trace: str) -> list[Call]:
    """Calls in the order they began; `-f` splits a call another thread interrupted into
    `<unfinished ...>` and `<... resumed>` lines, joined here by thread id."""
    calls: list[Call] = []
    open_calls: dict[str, Call] = {}
    for index, raw in enumerate(trace.splitlines()):
        m = _LINE.match(raw)
        if m is None:
            continue
        tid, rest = m.groups()
        resumed = _RESUMED.match(rest)
        if resumed is not None:
            call = open_calls.pop(tid, None)
            if call is not None:
                call.end = index
            continue
        head = _CALL.match(rest)
        if head is None:
            continue
        call = Call(head.group(1), head.group(3), rest, index)
        if rest.endswith("<unfinished ...>"):
            open_calls[tid] = call
        else:
            call.end = index
        calls.append(call)
    return calls


def unsynced_acks(calls: list[Call]) -> tuple[int, list[str]]:
    """(acks seen, acks that break the rule, each with why)."""
    wal = [c for c in calls if c.path.endswith("-wal")]
    syncs = [c for c in wal if c.name in ("fsync", "fdatasync")]
    written: dict[str, int] = {}  # client order id -> end of the first WAL write holding it
    for c in wal:
        if c.name in ("pwrite64", "write"):
            for cid in _CID.findall(c.text.encode()):
                written.setdefault(cid.decode(), c.end)
    acks = [c for c in calls if c.name == "write" and '"ACK ' in c.text]
    broken: list[str] = []
    for ack in acks:
        cid = ack.text.split('"ACK ', 1)[1].split()[0]
        at = written.get(cid)
        if at is None:
            broken.append(f"{cid}: acked, its record never written to the WAL")
        elif not any(s.begin > at and 0 <= s.end < ack.begin for s in syncs):
            broken.append(
                f"{cid}: acked at trace line {ack.begin + 1}, record written at "
                f"line {at + 1}, no WAL fsync/fdatasync between"
            )
    return len(acks), broken


def test_every_ack_follows_an_fsync_of_the_wal_after_its_record(tmp_path: Path) -> None:
    strace = shutil.which("strace")
    assert strace, "strace is missing: apt-get install strace (scripts/test.sh does)"
    trace = tmp_path / "trace.txt"
    done = subprocess.run(
        [
            strace,
            "-f",
            "-y",
            "-s",
            "65536",
            "-o",
            str(trace),
            "-e",
            "trace=write,pwrite64,fsync,fdatasync",
            sys.executable,
            "-c",
            CHILD,
            str(tmp_path / "j.db"),
            str(ORDERS),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    acked = done.stdout.count("ACK ")
    assert acked >= ORDERS
    seen, broken = unsynced_acks(parse(trace.read_text(errors="replace")))
    assert seen == acked, f"strace showed {seen} of {acked} ack writes"
    assert not broken, f"{len(broken)} of {seen} acks before their fsync: {broken[:3]}"


def test_the_journal_asks_sqlite_for_synchronous_full(tmp_path: Path) -> None:
    """An extra, not the proof (above): the setting the fsyncs come from."""
    journal = SqliteJournal(tmp_path / "j.db", background=False)
    try:
        assert journal._conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    finally:
        journal.close()
    assert sqlite3.connect(tmp_path / "j.db").execute("PRAGMA journal_mode").fetchone()[0] == "wal"
