"""The issue-10 measuring tools count what they claim: functions, files, file switches
(bench/order_trace.py's recorder) and function sizes (bench/largest_functions.py)."""

from __future__ import annotations

import importlib.util
import sys
import threading
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"


def _load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def test_largest_functions_counts_lines_and_statements_with_python_qualnames() -> None:
    lf = _load("largest_functions", BENCH / "largest_functions.py")
    source = (
        "class A:\n"
        "    def m(self):\n"
        "        x = 1\n"
        "        def inner():\n"
        "            return x\n"
        "        return inner\n"
        "\n"
        "def f():\n"
        "    pass\n"
    )
    got = {f.qualname: (f.line, f.lines, f.statements) for f in lf.functions_in(source, "x.py")}
    assert got == {"A.m": (2, 5, 4), "A.m.<locals>.inner": (4, 2, 1), "f": (8, 2, 1)}
    assert lf.report(lf.functions_in(source, "x.py"), 1)["largest"]["qualname"] == "A.m"


def test_order_trace_recorder_counts_functions_files_and_file_switches(tmp_path: Path) -> None:
    ot = _load("order_trace", BENCH / "order_trace.py")
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "a.py").write_text(
        "import b\ndef f():\n    h()\n    b.g()\n    return [i for i in range(2)]\n"
        "def h():\n    pass\n"
    )
    (pkg / "b.py").write_text("import a\ndef g():\n    a.h()\n")
    sys.path.insert(0, str(pkg))
    try:
        a = _load("a", pkg / "a.py")
        _load("b", pkg / "b.py")
        recorder = ot.Recorder(str(pkg))
        recorder.in_thread = threading.get_ident()
        recorder.open()
        sys.setprofile(recorder.profile)
        try:
            a.f()
        finally:
            sys.setprofile(None)
        recorder.close()
    finally:
        sys.path.remove(str(pkg))
        for name in ("a", "b"):
            sys.modules.pop(name, None)
    s = recorder.summary()
    # a.f -> a.h (same file: no switch), then b.g -> a.h; the list comprehension is part of f
    assert s["sequence"] == ["a.py:f", "a.py:h", "b.py:g", "a.py:h"]
    assert (s["functions"], s["files"], s["call_sequence"], s["file_switches"]) == (3, 2, 4, 2)


def test_order_trace_follows_one_fix_order_through_acceptor_and_journal_threads() -> None:
    pytest.importorskip("quickfix")
    ot = _load("order_trace", BENCH / "order_trace.py")
    r = ot.run(warmup=5)
    assert r["complete"], "the window never closed after the ExecutionReport New"
    assert r["sequence"][0].endswith(".fromApp")  # the window opens at QuickFIX's callback
    assert r["uncounted_threads"] == {}
    # the acceptor's, the journal writer's commit, and the release loop's that sent the report
    assert r["threads"] == ["fix-acceptor", "journal-writer", "release-gw-1"]
    assert r["files"] >= 10 and r["functions"] >= r["files"]
    assert r["call_sequence"] >= r["functions"] - 5  # a few are only resumed, not called
    assert 0 < r["file_switches"] < r["call_sequence"]


def test_gateway_machine_stats_counts_rules_outcomes_and_reject_codes_apart() -> None:
    gms = _load("gateway_machine_stats", BENCH / "gateway_machine_stats.py")
    notes = {
        "rule: submit": 3,
        "rule: halt": 2,
        "submit: ACCEPTED": 1,
        "submit: replayed HALTED": 2,
        "replace: MAX_ORDER_QTY": 1,
        "halt global: some pending cancel": 2,
    }
    got = gms.summarize(gms.Counter(notes), 1.04, 5, 40)
    assert (got["steps_run"], got["rules"]) == (5, {"halt": 2, "submit": 3})
    assert got["reject_codes"] == {"HALTED": 2, "MAX_ORDER_QTY": 1}
    assert got["outcomes"] == {"halt global: some pending cancel": 2,
                               "replace: MAX_ORDER_QTY": 1}  # fmt: skip
    assert (got["examples"], got["max_steps_per_example"], got["seconds"]) == (5, 40, 1.0)
