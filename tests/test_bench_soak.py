"""bench/soak.py end to end on a short soak against a real `interlock serve` (FIX and REST,
fills and cancels flowing): nothing acked is missing from the journal, nothing refused or
halted on the sized load, the journal verifies. No speed or memory figure is asserted:
those go to docs/reliability.md."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

from interlock.journal.sqlite import SqliteJournal
from interlock.sim.harness import build

BENCH = Path(__file__).resolve().parents[1] / "bench"


def _soak() -> ModuleType:
    spec = importlib.util.spec_from_file_location("soak", BENCH / "soak.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("soak", module)  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_a_short_soak_loses_nothing_and_writes_its_windows(tmp_path: Path) -> None:
    out = tmp_path / "soak.json"
    argv = [sys.executable, str(BENCH / "soak.py"), "--minutes", "0.25", "--capacity-seconds",
            "2", "--window-s", "5", "--rest-threads", "2", "--json", str(out)]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, timeout=240, cwd=tmp_path)

    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    r = json.loads(out.read_text())
    assert r["acked"] > 0 and r["lost"] == 0 and r["unanswered_fix"] == 0, r
    assert r["errors"] == 0 and r["halts_at_end"] == [], r
    assert r["serve_exit_code"] == 0 and r["journal_verify_exit"] == 0, r
    assert len(r["windows"]) >= 2
    for w in r["windows"]:
        assert w["refused"] == {}, w  # the load is sized: no check refuses it
        assert w["fix_acked"] > 0 and w["rest_acked"] > 0, w
        assert w["fills"] > 0 and w["cancels"] > 0, w
        assert w["rss_mb"] > 0 and w["journal_mb"] > 0, w
    assert set(r["slope_per_min"]) >= {"ack_p99_ms", "rss_mb", "decide_p99_us"}


def test_an_acked_order_missing_from_the_journal_is_counted_lost(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    h = build(journal=SqliteJournal(path))
    try:
        d = h.submit(client_order_id="kept")
        assert d.rejection is None
        h.gateway.wait(d, 5)
    finally:
        h.gateway.close()
    assert _soak().lost_orders({"kept", "never-journaled"}, path) == ["never-journaled"]


def test_bucket_percentile_reads_the_window_not_the_total_and_slope_is_least_squares() -> None:
    soak = _soak()
    old = [(1e-5, 10.0), (1e-4, 10.0), (float("inf"), 10.0)]
    new = [(1e-5, 10.0), (1e-4, 110.0), (float("inf"), 110.0)]
    assert soak.bucket_percentile(old, new, 50) == 1e-4  # the window's 100 are all <= 100 µs
    assert soak.bucket_percentile(old, old, 50) != soak.bucket_percentile(old, old, 50)  # nan
    assert soak.slope([1.0, 3.0, 5.0]) == 2.0
    assert soak.slope([4.0]) == 0.0
