"""A gateway never starts on a damaged journal: the issue's own case (one flipped bit turns
an accepted order's quantity 100 into 101) refused by `build_instance`/`Gateway.start`, and
by `interlock serve` as a real process with one clear line and a non-zero exit."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import msgspec
import pytest

from api.serve_kit import serve_config
from interlock.domain.events import Filled, OrderDecided
from interlock.errors import RecoveryError
from interlock.journal import SqliteJournal
from interlock.journal.codec import decode, encode
from interlock.sim.harness import build


def flip_quantity(path: Path) -> int:
    """Turn the first accepted order's quantity 100 into 101 in the closed file's bytes, so
    the record still decodes; return its seq."""
    with sqlite3.connect(path) as conn:
        seq, body = conn.execute(
            "SELECT seq, body FROM events WHERE kind = 'decided' ORDER BY seq LIMIT 1"
        ).fetchone()
    event = decode("decided", body)
    assert isinstance(event, OrderDecided) and event.request is not None
    assert event.request.quantity == 100
    changed = msgspec.structs.replace(
        event, request=msgspec.structs.replace(event.request, quantity=101)
    )
    other = encode(changed)[1]
    (at,) = [i for i, (a, b) in enumerate(zip(body, other, strict=True)) if a != b]
    data = bytearray(path.read_bytes())
    start = data.find(body)
    assert start >= 0 and data.find(body, start + 1) < 0
    data[start + at] = other[at]
    path.write_bytes(bytes(data))
    return int(seq)


def test_a_gateway_refuses_to_start_on_an_accepted_quantity_changed_on_disk(
    tmp_path: Path,
) -> None:
    path = tmp_path / "j.db"
    h = build(journal=SqliteJournal(path))
    assert h.submit(quantity=100).accepted
    h.journal.close()
    seq = flip_quantity(path)

    journal = SqliteJournal(path)
    try:
        with pytest.raises(RecoveryError, match=rf"{path}: record seq {seq} fails its checksum"):
            build(journal=journal)
    finally:
        journal.close()


def test_serve_on_a_damaged_journal_exits_non_zero_with_one_line_naming_the_seq(
    tmp_path: Path,
) -> None:
    config = serve_config(tmp_path)
    path = tmp_path / "serve-journal.db"
    journal = SqliteJournal(path)
    for i in range(1, 6):
        journal.append(Filled(ts=i, order_id=i, qty=1, price=100, exec_id=f"exec-{i}"))
    journal.close()
    body = encode(Filled(ts=2, order_id=2, qty=1, price=100, exec_id="exec-2"))[1]
    data = bytearray(path.read_bytes())
    data[data.find(body) + len(body) - 1] ^= 0x01  # seq 2's exec id: "exec-2" -> "exec-3"
    path.write_bytes(bytes(data))

    done = subprocess.run(
        [sys.executable, "-m", "interlock.cli", "serve", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,  # started on the damage, serve would run until this kills it: red
    )

    output = done.stdout + done.stderr
    assert done.returncode != 0, output
    assert "Traceback" not in output
    (line,) = [ln for ln in output.splitlines() if "serve failed" in ln]
    assert "record seq 2 fails its checksum" in line and str(path) in output
