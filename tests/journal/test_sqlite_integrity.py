"""A damaged SQLite journal is refused, naming the seq (or the WAL's byte offset), or it
recovers to exactly the records of its whole commits; it never yields a wrong record.

Real files, real SQLite: damage is done to the bytes on disk (the main file after a clean
close, the `-wal` file left by a SIGKILLed writer), never through the journal's own API.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from interlock.domain.events import Event, Filled
from interlock.errors import JournalError, RecoveryError
from interlock.journal import SqliteJournal
from interlock.journal.codec import encode
from interlock.journal.wal import scan_wal


def fill(i: int, qty: int = 5) -> Filled:
    return Filled(ts=1_000 + i, order_id=i, qty=qty, price=100 + i, exec_id=f"exec-{i:04d}")


def write(path: Path, events: list[Event]) -> None:
    journal = SqliteJournal(path)
    for event in events:
        journal.append(event)
    journal.close()  # checkpoints: every record is in the main file, the WAL is empty


def read_all(path: Path) -> list[tuple[int, Event]]:
    journal = SqliteJournal(path)
    try:
        return list(journal.read())
    finally:
        journal.close()


def flip(path: Path, offset: int, mask: int = 0x01) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= mask
    path.write_bytes(bytes(data))


def qty_offset(path: Path, event: Filled) -> int:
    """Byte offset in the file of `event`'s quantity: where its body differs from the same
    fill with another quantity of the same encoded size."""
    body = encode(event)[1]
    other = encode(msgspec.structs.replace(event, qty=event.qty ^ 0x02))[1]
    (at,) = [i for i, (a, b) in enumerate(zip(body, other, strict=True)) if a != b]
    data = path.read_bytes()
    start = data.find(body)
    assert start >= 0 and data.find(body, start + 1) < 0
    return start + at


def test_a_flipped_bit_in_a_committed_quantity_refuses_naming_the_file_and_seq(
    tmp_path: Path,
) -> None:
    path = tmp_path / "j.db"
    events: list[Event] = [fill(i) for i in range(1, 21)]
    write(path, events)
    flip(path, qty_offset(path, events[6]))  # seq 7: qty 5 becomes 4, still a valid fill

    with pytest.raises(RecoveryError, match=rf"{path}: record seq 7 fails its checksum"):
        read_all(path)


def _without_triggers(path: Path, *sql: str) -> None:
    with sqlite3.connect(path) as conn:  # someone rewriting the file by hand
        conn.execute("DROP TRIGGER events_no_update")
        conn.execute("DROP TRIGGER events_no_delete")
        for statement in sql:
            conn.execute(statement)


@pytest.mark.parametrize(
    ("sql", "match"),
    [
        (
            (
                "UPDATE events SET seq = -seq WHERE seq IN (4, 5)",
                "UPDATE events SET seq = 9 + seq WHERE seq IN (-4, -5)",
            ),
            "record seq 4 fails its checksum",
        ),
        (("UPDATE events SET seq = 40 WHERE seq = 6",), "record seq 7 where seq 6 was expected"),
        (("DELETE FROM events WHERE seq = 1",), "record seq 2 where seq 1 was expected"),
    ],
    ids=["swapped", "moved", "first-missing"],
)
def test_records_out_of_sequence_are_refused_naming_the_seq(
    tmp_path: Path, sql: tuple[str, ...], match: str
) -> None:
    path = tmp_path / "j.db"
    write(path, [fill(i) for i in range(1, 11)])
    _without_triggers(path, *sql)

    with pytest.raises(RecoveryError, match=match):
        read_all(path)


def test_a_read_that_resumes_checks_the_chain_from_the_record_it_resumes_after(
    tmp_path: Path,
) -> None:
    path = tmp_path / "j.db"
    events: list[Event] = [fill(i) for i in range(1, 11)]
    write(path, events)
    journal = SqliteJournal(path)
    try:
        assert [seq for seq, _ in journal.read(after_seq=6)] == [7, 8, 9, 10]
    finally:
        journal.close()
    flip(path, qty_offset(path, events[8]))  # seq 9
    journal = SqliteJournal(path)
    try:
        with pytest.raises(RecoveryError, match="record seq 9 fails"):
            list(journal.read(after_seq=6))
    finally:
        journal.close()


# -- the WAL -------------------------------------------------------------------------------

CHILD = """
import os, signal, sys
from interlock.domain.events import Filled
from interlock.journal import SqliteJournal
SqliteJournal._checkpoint_loop = lambda self, interval_s=1.0: None  # every commit stays in the WAL
journal = SqliteJournal(sys.argv[1])
for commit in range(8):
    for i in range(8):  # 8 rows: one power-of-two batch, one transaction per flush
        seq = commit * 8 + i + 1
        journal.append(Filled(ts=seq, order_id=seq, qty=1, price=100, exec_id=f"x{seq}"))
    journal.flush()
    print(journal.durable_seq, os.path.getsize(sys.argv[1] + "-wal"), flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def crashed_writer(path: Path) -> list[tuple[int, int]]:
    """A writer that committed 8 transactions of 8 records into the WAL, then was SIGKILLed:
    (durable seq, WAL size) after each commit."""
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == -9, done.stderr
    commits = [tuple(map(int, line.split())) for line in done.stdout.splitlines()]
    assert len(commits) == 8
    return commits  # type: ignore[return-value]


def frame_size(wal: Path) -> int:
    return 24 + int.from_bytes(wal.read_bytes()[8:12], "big")


def test_a_WAL_torn_mid_frame_recovers_exactly_the_commits_before_it(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    wal = Path(f"{path}-wal")
    commits = crashed_writer(path)
    (seq_before, size_before), (_, size_last) = commits[-2], commits[-1]
    assert size_last - size_before >= frame_size(wal)
    os.truncate(wal, size_before + frame_size(wal) // 2)  # the last commit half written

    records = read_all(path)

    assert [seq for seq, _ in records] == list(range(1, seq_before + 1))
    assert records == [
        (s, Filled(ts=s, order_id=s, qty=1, price=100, exec_id=f"x{s}"))
        for s in range(1, seq_before + 1)
    ]


def test_a_damaged_WAL_frame_with_commits_after_it_refuses_naming_the_offset(
    tmp_path: Path,
) -> None:
    path = tmp_path / "j.db"
    wal = Path(f"{path}-wal")
    commits = crashed_writer(path)
    at = commits[2][1] + 24 + 300  # in the page of the fourth commit's first frame
    frame = frame_size(wal)
    first_bad = 32 + (at - 32) // frame * frame
    flip(wal, at)

    with pytest.raises(RecoveryError, match=rf"{wal}: WAL frame \d+ fails its checksum at byte "
                       rf"offset {first_bad}, yet \d+ committed"):  # fmt: skip
        SqliteJournal(path)
    assert scan_wal(str(wal)).damage is not None  # refused before SQLite touched the WAL


def test_a_damaged_frame_in_the_last_commit_is_a_torn_tail(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    commits = crashed_writer(path)
    flip(Path(f"{path}-wal"), commits[-1][1] - 100)

    assert [seq for seq, _ in read_all(path)] == list(range(1, commits[-2][0] + 1))


def test_a_leaf_page_that_lost_its_newest_cell_is_refused(tmp_path: Path) -> None:
    """One lower cell count drops the newest record with no gap for the chain to see:
    SQLite's quick_check, run when the journal opens, sees the page's bytes unaccounted."""
    path = tmp_path / "j.db"
    write(path, [fill(i) for i in range(1, 31)])
    data = path.read_bytes()
    page_size = int.from_bytes(data[16:18], "big")
    leaf = data.find(encode(fill(30))[1]) // page_size * page_size
    assert data[leaf] == 0x0D and int.from_bytes(data[leaf + 3 : leaf + 5], "big") == 30
    flip(path, leaf + 4, 30 ^ 29)  # 30 cells -> 29

    with pytest.raises(RecoveryError, match=rf"journal {path} is damaged: SQLite's quick_check"):
        SqliteJournal(path)


# -- the property: one changed byte is refused or changes nothing --------------------------

EVENTS: list[Event] = [fill(i, qty=i % 7 + 1) for i in range(1, 31)]


class Pristine:
    def __init__(self, data: bytes, start: int, end: int) -> None:
        self.data, self.start, self.end = data, start, end

    def __repr__(self) -> str:  # not 16 KiB of file in every failure report
        return f"Pristine(rows at bytes {self.start}..{self.end})"


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Pristine:
    """The main file of a closed journal of EVENTS, and the byte range of the one b-tree
    leaf page that holds all its rows: page header, cell pointers, free space, cells."""
    path = tmp_path_factory.mktemp("pristine") / "j.db"
    write(path, EVENTS)
    data = path.read_bytes()
    page_size = int.from_bytes(data[16:18], "big")
    first = data.find(encode(EVENTS[0])[1])
    page = first // page_size * page_size
    assert page // page_size == data.find(encode(EVENTS[-1])[1]) // page_size  # one leaf
    header = page + (100 if page == 0 else 0)
    assert data[header] == 0x0D  # a table b-tree leaf page
    return Pristine(data, header, page + page_size)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_any_one_changed_byte_of_the_stored_events_is_refused_or_changes_nothing(
    tmp_path_factory: pytest.TempPathFactory, pristine: Pristine, data: st.DataObject
) -> None:
    original, start, end = pristine.data, pristine.start, pristine.end
    offset = data.draw(st.integers(start, end - 1), label="offset")
    value = data.draw(st.integers(0, 255).filter(lambda v: v != original[offset]), label="byte")
    path = tmp_path_factory.mktemp("damaged") / "j.db"
    damaged = bytearray(original)
    damaged[offset] = value
    path.write_bytes(bytes(damaged))

    try:
        records = read_all(path)
    except JournalError:  # refused, with a clear error (RecoveryError is one): fine
        return
    assert records == list(enumerate(EVENTS, start=1))


# -- `interlock journal verify` and `export` on the same damage ------------------------------

INTERLOCK = [sys.executable, "-m", "interlock.cli", "journal"]


def test_verify_lists_a_checksum_break_with_its_seq_and_export_refuses(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    events: list[Event] = [fill(i) for i in range(1, 11)]
    write(path, events)
    flip(path, qty_offset(path, events[3]))  # seq 4

    verify = subprocess.run([*INTERLOCK, "verify", str(path)], capture_output=True, text=True,
                            timeout=60)  # fmt: skip
    export = subprocess.run([*INTERLOCK, "export", str(path)], capture_output=True, text=True,
                            timeout=60)  # fmt: skip

    assert verify.returncode == 1, verify.stdout + verify.stderr
    assert "seq 4 (fill): CHECKSUM_MISMATCH" in verify.stdout
    assert export.returncode != 0 and "record seq 4 fails its checksum" in export.stdout
    assert "Traceback" not in verify.stderr + export.stderr


def test_verify_lists_WAL_damage_with_its_byte_offset(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    wal = Path(f"{path}-wal")
    commits = crashed_writer(path)
    at = commits[4][1] + 24 + 100
    first_bad = 32 + (at - 32) // frame_size(wal) * frame_size(wal)
    flip(wal, at)

    done = subprocess.run([*INTERLOCK, "verify", str(path)], capture_output=True, text=True,
                          timeout=60)  # fmt: skip

    assert done.returncode == 1, done.stdout + done.stderr
    assert f"WAL_DAMAGE: {wal}: WAL frame" in done.stdout
    assert f"at byte offset {first_bad}, yet" in done.stdout


def test_the_checksum_is_computed_on_the_writer_thread_never_in_append(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from interlock.journal import sqlite as sqlite_module

    threads: list[str] = []
    real = sqlite_module.link

    def spy(*args: Any) -> int:
        threads.append(threading.current_thread().name)
        return real(*args)

    monkeypatch.setattr(sqlite_module, "link", spy)
    journal = SqliteJournal(tmp_path / "j.db")
    try:
        for i in range(1, 101):
            journal.append(fill(i))
            assert threading.current_thread().name not in threads
        journal.flush()
    finally:
        journal.close()
    assert len(threads) == 100 and set(threads) == {"journal-writer"}


def test_a_damaged_kind_of_any_length_is_a_checksum_break_not_a_crash() -> None:
    from interlock.journal.chain import ChainCheck, link

    good = link(0, 1, 1, "fill", b"\x90")
    with pytest.raises(RecoveryError, match="seq 1 fails its checksum"):
        ChainCheck("j").check(1, 1, "f" * 70_000, b"\x90", good)
