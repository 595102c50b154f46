"""bench/memory.py runs end to end on a small load and writes the keys issue 14 names:
every order accepted and left open, the RSS figures read from /proc, and the traced run's
breakdown by file:line. No memory figure is asserted: those go to docs/performance.md."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench"
RSS_KEYS = ("rss_mb_after_import", "rss_mb_built", "rss_mb_100k_open", "hwm_mb_100k_open")


def test_memory_bench_keeps_every_order_open_and_writes_rss_and_the_breakdown(
    tmp_path: Path,
) -> None:
    out = tmp_path / "memory.json"
    argv = [sys.executable, str(BENCH / "memory.py"), "--orders", "1500", "--symbols", "300",
            "--accounts", "30", "--trace-orders", "500", "--json", str(out)]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, timeout=240, cwd=tmp_path)

    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    result = json.loads(out.read_text())
    assert result["codes"] == {"ACCEPTED": 1500}  # nothing refused: the load is the one sized
    assert result["open_orders"] == result["sent_to_venue"] == 1500  # released, never filled
    for key in RSS_KEYS:
        assert isinstance(result[key], float) and result[key] > 0, (key, result.get(key))
    assert result["rss_mb_after_import"] <= result["hwm_mb_100k_open"]
    assert isinstance(result["bytes_per_open_order"], float)
    assert isinstance(result["bytes_per_symbol_and_account"], float)
    for key in ("held_top", "per_order_top", "per_order_by_file"):
        rows = result[key]
        assert 0 < len(rows) <= 15, key
        for row in rows:
            assert set(row) == {"where", "kib", "blocks", "bytes_per_order"}
    assert all(":" in row["where"] for row in result["per_order_top"])  # file:line
    files = {row["where"] for row in result["per_order_by_file"]}
    assert any(f.startswith("interlock/") for f in files)  # the gateway's own state shows
    assert "rss_mb_100k_open" in done.stdout and "by file:line" in done.stdout  # the tables
