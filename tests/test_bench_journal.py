"""bench/journal.py runs end to end on a tiny load (SQLite, and a throwaway PostgreSQL it
starts itself) and writes the four keys issue 12 names, each a real positive figure."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench"
KEYS = ("sqlite_durable_per_s", "postgres_durable_per_s", "sqlite_ack_p99_ms",
        "postgres_ack_p99_ms")  # fmt: skip


def test_journal_bench_writes_the_four_keys_for_both_backends(tmp_path: Path) -> None:
    out = tmp_path / "journal.json"
    argv = [sys.executable, str(BENCH / "journal.py"), "--orders", "2000", "--seconds", "0.2",
            "--sqlite-rate", "2000", "--postgres-rate", "2000", "--json", str(out)]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, timeout=240, cwd=BENCH)

    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    result = json.loads(out.read_text())
    for key in KEYS:
        assert isinstance(result[key], float) and result[key] > 0, (key, result.get(key))
    for backend in ("sqlite", "postgres"):  # every order of each run was acknowledged
        assert result[f"{backend}_acked"] == 400
        assert result[f"{backend}_records"] >= 2000
        assert result[f"{backend}_raw_rows_per_s"] > 0
        assert result[f"{backend}_journal_only_records_per_s"] > 0
    assert "postgres_durable_per_s" in done.stdout  # the printed table
