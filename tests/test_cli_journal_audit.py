"""`interlock journal verify` and `interlock journal export` on real SQLite journal files.

verify: exit 0 on a journal a real gateway wrote, 1 with the damaged record's seq listed, 2
(a clear line, no traceback) for a file that is not a journal. export: every field of every
record kind comes back from its CSV and JSONL rows; a control character in a free-text field
is escaped on a terminal (a Rich console that is one) and written raw to the file."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import pytest
from rich.console import Console
from typer.testing import CliRunner

from interlock.cli import app
from interlock.cli import journal as journal_cli
from interlock.demo import run_demo
from interlock.domain.commands import OrderRequest, ParentOrder
from interlock.domain.enums import HaltScope, Side
from interlock.domain.events import (
    EVENT_TYPES,
    AdvLoaded,
    Cancelled,
    CancelRequested,
    DeployAborted,
    DeployCommitted,
    DeployProposed,
    DropCopyBreak,
    Event,
    Filled,
    HaltApplied,
    HaltLifted,
    LimitsLoaded,
    LocateAdded,
    OrderDecided,
    ParentDeclared,
    ReadinessAcknowledged,
    Routed,
    VenueRejected,
)
from interlock.domain.flag_events import FlagDisabled, FlagEnabled, FlagRegistered, FlagRetired
from interlock.domain.limit_events import (
    LimitChangeApplied,
    LimitChangeApproved,
    LimitChangeDeclined,
    LimitChangeProposed,
    LimitItem,
)
from interlock.journal.chain import link
from interlock.journal.codec import KINDS, encode
from interlock.journal.sqlite import SqliteJournal

EVIL = "\x1b[2J\x1b[H\n\r\x00\x07\x7f\x85\x9b31m\u2028"
RAW_CONTROL = "\x1b"
INTERLOCK = str(Path(sys.executable).with_name("interlock"))
TS = 1_343_828_400_123_456_789  # 2012-08-01T13:40:00.123456789Z
runner = CliRunner()


ITEMS = (LimitItem("defaults.max_position", "50000", "60000"),)


def every_kind() -> list[Event]:
    req = OrderRequest(
        f"c1{EVIL}",
        "desk-7",
        "vwap",
        "AAPL",
        Side.BUY,
        100,
        limit_price=Decimal("100.01"),
        parent_id="p1",
        idempotency_key="k",
    )
    events: list[Event] = [
        LimitsLoaded(TS, "d1", '{"max": 1}'),
        OrderDecided(TS + 1, "desk", req, 1, 10_001, 10_001, "", "", "", "", "d1", "", "open"),
        OrderDecided(
            TS + 2, "", None, None, 0, 0, "SCHEMA_INVALID", f"bad{EVIL}", "", "", "d1", f"raw{EVIL}"
        ),
        Filled(TS + 3, 1, 40, 10_001, "e1"),
        CancelRequested(TS + 4, 1, "ops", f"why{EVIL}"),
        Cancelled(TS + 5, 1, 60, "done"),
        OrderDecided(TS + 6, "desk", req, 2, 10_001, 10_001, "", "", "", "", "d1"),
        VenueRejected(TS + 7, 2, f"no{EVIL}"),
        HaltApplied(TS + 8, HaltScope.ACCOUNT, "desk-7", f"why{EVIL}", "ops", TS),
        HaltLifted(TS + 9, HaltScope.ACCOUNT, "desk-7", "ops"),
        ParentDeclared(TS + 10, ParentOrder("p1", "desk-7", "AAPL", Side.BUY, 500)),
        DeployProposed(TS + 11, "b1", "f1", ("i1", "i2"), 3, "ops"),
        DeployCommitted(TS + 12, "b1", "f1", 4, ("i1", "i2"), "ops"),
        DeployAborted(TS + 13, "b2", "f1", "ops", "straggler"),
        FlagRegistered(TS + 14, "power_peg", 7, f"old{EVIL}", "ops"),
        FlagEnabled(TS + 15, "power_peg", 7, "ops", ("i1",)),
        FlagDisabled(TS + 16, "power_peg", "ops"),
        FlagRetired(TS + 17, "power_peg", "ops"),
        Routed(TS + 18, 1),
        ReadinessAcknowledged(TS + 19, "ops", (f"members: gw-8 runs build b0{EVIL}",), 97),
        LimitChangeProposed(TS + 20, "LC-1", "risk-a", ITEMS, f"why{EVIL}", True, TS + 99),
        LimitChangeApproved(TS + 21, "LC-1", "risk-b"),
        LimitChangeDeclined(TS + 22, "LC-2", "risk-b", f"no{EVIL}"),
        LimitChangeApplied(TS + 23, "LC-1", ITEMS, "d2"),
        DropCopyBreak(
            TS + 24,
            "foreign",
            f"R1{EVIL}",
            f"ROGUE{EVIL}",
            "V1",
            "desk-7",
            "AAPL",
            "1",
            500,
            f"no order of ours{EVIL}",
            HaltScope.ACCOUNT,
            "desk-7",
        ),
        LocateAdded(TS + 25, "L1", "desk-7", "AAPL", 500, TS + 10**12, f"pb{EVIL}", "ops"),
        AdvLoaded(TS + 26, "2025-07-31", f"d{EVIL}", ((f"AAPL{EVIL}", 200_000),)),
    ]
    assert {type(e) for e in events} == set(EVENT_TYPES)
    return events


def write_journal(path: Path, events: list[Event]) -> None:
    journal = SqliteJournal(path)
    for event in events:
        journal.append(event)
    journal.flush()
    journal.close()


def _positional(value: Any) -> Any:
    """A row's JSON fields back in msgspec's positional (array_like) form."""
    if isinstance(value, dict):
        return [_positional(v) for v in value.values()]
    if isinstance(value, list):
        return [_positional(v) for v in value]
    return value


def rebuild(kind: str, fields: dict[str, Any]) -> Event:
    event_type = {k: t for t, k in KINDS.items()}[kind]
    if event_type.__struct_config__.array_like:
        return msgspec.convert(_positional(fields), event_type)  # type: ignore[no-any-return]
    return msgspec.convert(fields, event_type)  # type: ignore[no-any-return]


def insert_chained(conn: sqlite3.Connection, seq: int, ts: int, kind: str, body: bytes) -> None:
    """Append a row whose checksum chains from the last one stored, as a writer would."""
    (prev,) = conn.execute("SELECT crc FROM events ORDER BY seq DESC LIMIT 1").fetchone()
    crc = link(prev, seq, ts, kind, body)
    conn.execute("INSERT INTO events VALUES (?, ?, ?, ?, ?)", (seq, ts, kind, body, crc))


def test_verify_passes_a_journal_a_real_gateway_wrote(tmp_path: Path) -> None:
    path = tmp_path / "demo.db"
    with (tmp_path / "demo.txt").open("w") as shown:
        run_demo(Console(file=shown, width=120), path)

    done = subprocess.run(
        [INTERLOCK, "journal", "verify", str(path)], capture_output=True, text=True, timeout=60
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert "no findings" in done.stdout


def test_verify_exits_1_naming_the_seq_after_a_gap_and_a_fill_never_ordered(
    tmp_path: Path,
) -> None:
    path = tmp_path / "gap.db"
    write_journal(path, every_kind())
    with sqlite3.connect(path) as conn:  # a record written past a hole, as a bad copy leaves
        insert_chained(conn, 30, TS, *encode(Filled(TS, 99, 1, 1, f"x{EVIL}")))

    done = subprocess.run(
        [INTERLOCK, "journal", "verify", str(path)], capture_output=True, text=True, timeout=60
    )

    assert done.returncode == 1, done.stdout + done.stderr
    assert "seq 30 (fill): SEQUENCE_GAP" in done.stdout
    assert "seq 30 (fill): FILL_WITHOUT_ORDER" in done.stdout
    assert f"2 finding(s) in {len(every_kind()) + 1} record(s)" in done.stdout
    assert RAW_CONTROL not in done.stdout


@pytest.mark.parametrize("content", [b"not a database at all" * 100, None], ids=["junk", "none"])
def test_verify_exits_2_with_a_clear_line_for_a_file_that_is_not_a_journal(
    tmp_path: Path, content: bytes | None
) -> None:
    path = tmp_path / "j.db"
    if content is not None:
        path.write_bytes(content)

    done = subprocess.run(
        [INTERLOCK, "journal", "verify", str(path)], capture_output=True, text=True, timeout=60
    )

    assert done.returncode == 2, done.stdout + done.stderr
    assert str(path) in done.stdout and "Traceback" not in done.stdout + done.stderr


def test_verify_exits_2_naming_a_record_that_cannot_be_decoded(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    write_journal(path, every_kind()[:2])
    with sqlite3.connect(path) as conn:
        insert_chained(conn, 3, 0, "fill", b"\xc1\xc1\xc1")  # checksum right, body not

    result = runner.invoke(app, ["journal", "verify", str(path)])

    assert result.exit_code == 2, result.output
    assert "journal record 3" in result.output


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_export_to_a_file_round_trips_every_field_of_every_kind_raw(
    tmp_path: Path, fmt: str
) -> None:
    path, out = tmp_path / "j.db", tmp_path / f"audit.{fmt}"
    events = every_kind()
    write_journal(path, events)

    result = runner.invoke(
        app,
        ["journal", "export", str(path), "--format", fmt, "--out", str(out), "--instance", "gw-1"],
    )

    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(text, newline="")))
        for row in rows:
            row["fields"] = json.loads(row["fields"])
    else:
        rows = [json.loads(line) for line in text.splitlines()]
    assert [int(r["seq"]) for r in rows] == list(range(1, len(events) + 1))
    assert [rebuild(r["kind"], r["fields"]) for r in rows] == events
    assert rows[0]["ts"] == "2012-08-01T13:40:00.123456789Z"
    assert {r["instance"] for r in rows} == {"gw-1"}
    # The file holds the values as journaled: JSON's own escapes (\u001b, and for the line
    # breaks \u2028), never the terminal's (\x1b); what JSON leaves as it is stays raw.
    assert "\\u001b[2J" in text and "\\u2028" in text and "\\x1b" not in text
    assert "\x7f\\u0085\x9b31m" in text


def test_export_since_a_seq_or_a_time_starts_at_that_record(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    write_journal(path, every_kind())

    by_seq = runner.invoke(
        app, ["journal", "export", str(path), "--since", "17", "--format", "jsonl"]
    )
    by_time = runner.invoke(
        app,
        [
            "journal",
            "export",
            str(path),
            "--since",
            "2012-08-01T13:40:00.123456+00:00",
            "--format",
            "jsonl",
        ],
    )
    bad = runner.invoke(app, ["journal", "export", str(path), "--since", "yesterday"])

    n = len(every_kind())
    assert [json.loads(x)["seq"] for x in by_seq.output.splitlines()] == list(range(17, n + 1))
    assert len(by_time.output.splitlines()) == n  # every record is at or after that µs
    assert bad.exit_code == 2 and "yesterday" in bad.output


def test_export_refuses_to_overwrite_a_file(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    write_journal(path, every_kind()[:1])

    result = runner.invoke(app, ["journal", "export", str(path), "--out", str(path)])

    assert result.exit_code == 1 and "exists" in result.output
    assert path.stat().st_size > 0


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_export_to_a_terminal_escapes_control_characters(
    tmp_path: Path, fmt: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "j.db"
    write_journal(path, every_kind())
    screen = io.StringIO()
    terminal = Console(file=screen, force_terminal=True, width=200)
    monkeypatch.setattr(journal_cli, "console", lambda: terminal)

    result = runner.invoke(app, ["journal", "export", str(path), "--format", fmt])

    assert result.exit_code == 0, result.output
    shown = screen.getvalue()
    assert not any(c in shown for c in "\x1b\r\x00\x07\x7f\x85\x9b\u2028"), repr(shown)
    assert "\\x7f\\u0085\\x9b31m" in shown  # JSON escaped \x1b; the terminal, DEL and CSI
    n = len(every_kind())
    assert len(shown.splitlines()) == n + (fmt == "csv")  # a field's newline is shown as \n
