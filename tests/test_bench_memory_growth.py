"""bench/memory_growth.py runs end to end on a small flow: every order accepted and ended
(none open), and the breakdown of what they left behind by file and by allocation site.
No figure is asserted: those go to docs/reliability.md."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench"


def test_memory_growth_bench_ends_every_order_and_writes_the_breakdown(tmp_path: Path) -> None:
    out = tmp_path / "growth.json"
    argv = [sys.executable, str(BENCH / "memory_growth.py"), "--warm", "400", "--orders", "800",
            "--json", str(out)]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, timeout=240, cwd=tmp_path)

    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    result = json.loads(out.read_text())
    assert result["codes"] == {"ACCEPTED": 1200}  # the flow is sized: nothing refused
    assert result["accepted"] == 800 and result["open_at_end"] == 0  # every order ended
    assert result["retained_bytes_per_ended_order"] > 0
    assert result["top"] and all(":" in row["where"] for row in result["top"])
    assert any(row["where"].startswith("interlock/") for row in result["by_file"])
