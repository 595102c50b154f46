"""`interlock journal verify|export|show --dsn ... --instance ...` on the fleet's real
PostgreSQL journal, and `export --format parquet` (read back with pyarrow) on both backends.

verify: exit 0 on rows a PostgresJournal committed, 1 with the seq of a row written past a
hole, 2 (one clear line) for an instance with no rows or a database that is not there.
export: every field of every kind comes back from the Parquet file, typed (seq int64, ts a
UTC nanosecond timestamp equal to the record's); a terminal sees control characters escaped.
"""

from __future__ import annotations

import io
import json
import subprocess
import uuid
from pathlib import Path

import psycopg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from rich.console import Console
from typer.testing import CliRunner

from interlock.cli import app
from interlock.cli import journal as journal_cli
from interlock.domain.events import Event, Filled
from interlock.journal.chain import link
from interlock.journal.codec import encode
from interlock.journal.postgres import TABLE, PostgresJournal
from interlock.sim.procs import free_ports
from test_cli_journal_audit import EVIL, INTERLOCK, RAW_CONTROL, TS, every_kind, rebuild

runner = CliRunner()


def _journaled(dsn: str, events: list[Event]) -> str:
    """`events` committed by a real PostgresJournal under a fresh instance id."""
    name = f"gw-audit-{uuid.uuid4().hex[:10]}"
    journal = PostgresJournal(dsn, name)
    for event in events:
        journal.append(event)
    journal.flush()
    journal.close()
    return name


def _verify(dsn: str, instance: str) -> subprocess.CompletedProcess[str]:
    argv = [INTERLOCK, "journal", "verify", "--dsn", dsn, "--instance", instance]
    return subprocess.run(argv, capture_output=True, text=True, timeout=60)


def test_verify_on_postgres_passes_what_a_journal_committed(postgres_dsn: str) -> None:
    name = _journaled(postgres_dsn, every_kind())
    _journaled(postgres_dsn, every_kind()[:3])  # another instance's rows: not read

    done = _verify(postgres_dsn, name)

    assert done.returncode == 0, done.stdout + done.stderr
    assert "21 record(s) verified: no findings" in done.stdout


def test_verify_on_postgres_exits_1_naming_the_row_past_a_hole(postgres_dsn: str) -> None:
    name = _journaled(postgres_dsn, every_kind())
    kind, body = encode(Filled(TS, 99, 1, 1, f"x{EVIL}"))
    with psycopg.connect(postgres_dsn, autocommit=True) as conn:  # a row past a hole
        row = conn.execute(  # chained from the last row, as a writer would
            f"SELECT crc FROM {TABLE} WHERE instance_id = %s ORDER BY seq DESC LIMIT 1", (name,)
        ).fetchone()
        assert row is not None
        conn.execute(
            f"INSERT INTO {TABLE} (instance_id, seq, kind, payload, ts, crc) "
            "VALUES (%s, 30, %s, %s, %s, %s)",
            (name, kind, body, TS, link(int(row[0]), 30, TS, kind, body)),
        )

    done = _verify(postgres_dsn, name)

    assert done.returncode == 1, done.stdout + done.stderr
    assert "seq 30 (fill): SEQUENCE_GAP: records 22..29 missing" in done.stdout
    assert "seq 30 (fill): FILL_WITHOUT_ORDER" in done.stdout
    assert "2 finding(s) in 22 record(s)" in done.stdout
    assert RAW_CONTROL not in done.stdout


def test_verify_on_postgres_exits_2_for_an_instance_without_rows_naming_those_with(
    postgres_dsn: str,
) -> None:
    own = f"audit_{uuid.uuid4().hex[:8]}"  # a database of its own: the listing stays short
    with psycopg.connect(postgres_dsn, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {own}")
    dsn = postgres_dsn.replace("dbname=postgres", f"dbname={own}")
    assert dsn != postgres_dsn
    name = _journaled(dsn, every_kind()[:1])

    done = _verify(dsn, "gw-typo")

    assert done.returncode == 2, done.stdout + done.stderr
    assert "instance 'gw-typo': no records" in done.stdout and repr(name) in done.stdout
    assert "Traceback" not in done.stdout + done.stderr


def test_verify_exits_2_in_one_line_when_the_database_is_not_there() -> None:
    dsn = f"host=127.0.0.1 port={free_ports(1)[0]} dbname=postgres user=postgres"

    done = _verify(dsn, "gw-1")

    assert done.returncode == 2, done.stdout + done.stderr
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    assert len(lines) == 1 and "cannot open postgres journal" in lines[0], done.stdout
    assert done.stderr == ""


def test_verify_wants_a_file_or_a_dsn_with_an_instance() -> None:
    neither = runner.invoke(app, ["journal", "verify"])
    no_instance = runner.invoke(app, ["journal", "verify", "--dsn", "host=x"])
    assert neither.exit_code == 2 and "one of them" in neither.output
    assert no_instance.exit_code == 2 and "--dsn needs --instance" in no_instance.output


def _read_parquet(path: Path) -> pa.Table:
    table = pq.read_table(path)
    assert table.schema.field("seq").type == pa.int64()
    assert table.schema.field("ts").type == pa.timestamp("ns", tz="UTC")
    for name in ("kind", "instance", "fields"):
        assert table.schema.field(name).type == pa.string()
    return table


def test_export_parquet_from_postgres_round_trips_every_field_of_every_kind(
    tmp_path: Path, postgres_dsn: str
) -> None:
    events = every_kind()
    name = _journaled(postgres_dsn, events)
    out = tmp_path / "audit.parquet"

    result = runner.invoke(app, ["journal", "export", "--dsn", postgres_dsn, "--instance", name,
                                 "--format", "parquet", "--out", str(out)])  # fmt: skip

    assert result.exit_code == 0, result.output
    assert f"{len(events)} record(s) written to" in result.output
    table = _read_parquet(out)
    assert table.column("seq").to_pylist() == list(range(1, len(events) + 1))
    assert table.column("ts").cast(pa.int64()).to_pylist() == [e.ts for e in events]
    assert set(table.column("instance").to_pylist()) == {name}
    kinds, fields = table.column("kind").to_pylist(), table.column("fields").to_pylist()
    assert [rebuild(k, json.loads(f)) for k, f in zip(kinds, fields, strict=True)] == events


def test_export_parquet_from_sqlite_since_a_seq_and_only_to_a_file(tmp_path: Path) -> None:
    from test_cli_journal_audit import write_journal

    path, out = tmp_path / "j.db", tmp_path / "j.parquet"
    write_journal(path, every_kind())

    to_screen = runner.invoke(app, ["journal", "export", str(path), "--format", "parquet"])
    result = runner.invoke(app, ["journal", "export", str(path), "--since", "17",
                                 "--format", "parquet", "--out", str(out)])  # fmt: skip

    assert to_screen.exit_code == 1 and "give --out" in to_screen.output
    assert result.exit_code == 0, result.output
    assert _read_parquet(out).column("seq").to_pylist() == [17, 18, 19, 20, 21]
    assert not (tmp_path / "j.parquet.partial").exists()


def test_export_and_show_from_postgres_to_a_terminal_escape_control_characters(
    postgres_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = _journaled(postgres_dsn, every_kind())
    screen = io.StringIO()
    terminal = Console(file=screen, force_terminal=True, width=200, highlight=False)
    monkeypatch.setattr(journal_cli, "console", lambda: terminal)

    exported = runner.invoke(app, ["journal", "export", "--dsn", postgres_dsn, "--instance", name,
                                   "--format", "csv"])  # fmt: skip
    shown = runner.invoke(app, ["journal", "show", "--dsn", postgres_dsn, "--instance", name])

    assert exported.exit_code == 0 and shown.exit_code == 0, exported.output + shown.output
    text = screen.getvalue()
    assert not any(c in text for c in "\r\x00\x07\x7f\x85\x9b\u2028"), repr(text)
    assert "\\x7f\\u0085\\x9b31m" in text
    assert "21 of 21 record(s) shown" in text
