"""bench/instructions.py counts what it claims: each measured order is one `Gateway.submit`,
the `full` phase releases what `decide` leaves pending, and the callgrind totals are read
from the file valgrind writes."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_instructions", BENCH / "instructions.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_instructions"] = module
    spec.loader.exec_module(module)
    return module


def test_calls_are_counted_per_submit_and_only_full_releases_to_the_venue() -> None:
    ins = _load()
    n, decide = ins._profiled("decide", 50, 40, "calls")
    assert n == 40
    assert decide["gateway/gateway.py:Gateway.submit"] == 40
    assert decide["gateway/gateway.py:Gateway._release"] == 0  # nothing made durable
    _, full = ins._profiled("full", 50, 40, "calls")
    assert full["gateway/gateway.py:Gateway.submit"] == 40
    assert full["gateway/gateway.py:Gateway._release"] >= 1  # flushed: released
    assert sum(full.values()) > sum(decide.values())


def test_the_callgrind_total_is_read_from_the_summary_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ins = _load()
    (tmp_path / "cg.decide.7").write_text("events: Ir\nfl=x\n0 5\nsummary: 123456\n")
    monkeypatch.setattr(ins.subprocess, "run", lambda *a, **k: None)  # parse only
    assert ins._callgrind_total("decide", 0, 7, tmp_path) == 123_456
    (tmp_path / "cg.decide.7").write_text("events: Ir\n")
    with pytest.raises(SystemExit, match="no instruction total"):
        ins._callgrind_total("decide", 0, 7, tmp_path)
