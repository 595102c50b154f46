"""Order trace: which functions and files of `src/interlock/` one FIX NewOrderSingle crosses.

Issue 10 restructures the order path; its closing note counts, before and after, what one
order touches. This script starts a real instance (the test harness's `build`, a SQLite
journal with its writer thread, the QuickFIX acceptor on 127.0.0.1), logs a desk's
`FixClient` on, sends warm-up orders (first-use costs, imports, caches), waits until no
thread runs Interlock code, then traces exactly one NewOrderSingle:

- on the acceptor's thread, from the moment QuickFIX hands it to `fromApp` until that
  call returns;
- on the journal writer, which commits the decision and hands it to the release loop,
  everything it ran in the window (the order is the only one in flight);
- on the thread that sends its ExecutionReport New (seen in `toApp`; since issue 12 the
  gateway's release loop, before it the journal writer), from the same moment until that
  thread's unit of work is over: the first return, after the report, to the shallowest
  frame it reached (its loop).

Hooks: `threading.setprofile` before anything starts (every Python thread) plus
`sys.setprofile` here. Counted: distinct (file, qualname) pairs of code in `src/interlock/`
that was called or resumed-and-returned in the window (comprehensions and generator
expressions are part of their function, not calls), distinct files, the call sequence length
(Interlock calls in order, threads one after the other) and file switches (consecutive
calls of the sequence in different files). Threads that ran Interlock code in the window
but are none of the three are listed apart, never counted (`--all-threads` counts them).

Imports are tolerant of the restructuring (`interlock.sim.harness` / `interlock.testing`,
`interlock.sim.fix` / `interlock.api.fix.testkit`), so the same script measures both.

    python bench/order_trace.py [--warmup 30] [--json PATH] [--all-threads] [--sequence]
"""

from __future__ import annotations

import argparse
import importlib
import itertools
import json
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType, ModuleType
from typing import Any

from rich.console import Console
from rich.table import Table

DEFAULT_JSON = Path(__file__).resolve().parent / "results" / "order_trace.json"
_FOLDED = ("<listcomp>", "<genexpr>", "<dictcomp>", "<setcomp>")


def _module(*names: str) -> ModuleType:
    """The first of `names` that imports: the new layout first, then the old one."""
    errors = []
    for name in names:
        try:
            return importlib.import_module(name)
        except ImportError as exc:
            errors.append(f"{name}: {exc}")
    raise ImportError("none of these imports: " + "; ".join(errors))


def _attr(name: str, *modules: str) -> Any:
    """Attribute `name` of the first of `modules` that has it."""
    for mod in modules:
        try:
            m = importlib.import_module(mod)
        except ImportError:
            continue
        if hasattr(m, name):
            return getattr(m, name)
    raise ImportError(f"{name} is in none of {modules}")


# -- the recorder --------------------------------------------------------------------------


@dataclass
class ThreadLog:
    """What one thread did in the window: Interlock calls in order, and its depth."""

    name: str
    calls: list[tuple[int, str, str]] = field(default_factory=list)  # (seq, file, qualname)
    touched: set[tuple[str, str]] = field(default_factory=set)
    depth: int = 0
    min_depth: int = 0
    report_seen: bool = False
    closed: bool = False


class Recorder:
    """A profile function for every thread, recording only inside the window.

    `root` is the package directory whose code counts. `only_inside` names the thread
    whose window is one call (the acceptor's `fromApp`), `out_thread` the thread whose
    window ends when its work unit is over after `mark_report()`."""

    def __init__(self, root: str) -> None:
        self.root = os.path.join(os.path.abspath(root), "")
        self.active = False
        self.logs: dict[int, ThreadLog] = {}
        self.in_thread: int | None = None
        self.out_thread: int | None = None
        self.done = threading.Event()
        self._seq = itertools.count()
        self._files: dict[str, str | None] = {}
        self._watch_ignore: int | None = None
        self.last_busy = 0.0

    def _rel(self, filename: str) -> str | None:
        rel = self._files.get(filename, "")
        if rel == "":
            path = os.path.abspath(filename)
            rel = path[len(self.root) :] if path.startswith(self.root) else None
            self._files[filename] = rel
        return rel

    def watch(self, ignore: int | None) -> None:
        """Before the window: note when any thread but `ignore` calls Interlock code
        (`last_busy`); `None` stops watching."""
        self.last_busy = time.monotonic()
        self._watch_ignore = ignore

    def profile(self, frame: FrameType, event: str, arg: object) -> None:
        if not self.active:
            ignore = self._watch_ignore
            if (
                ignore is not None
                and event == "call"
                and threading.get_ident() != ignore
                and self._rel(frame.f_code.co_filename) is not None
            ):
                self.last_busy = time.monotonic()
            return
        if event not in ("call", "return"):
            return
        ident = threading.get_ident()
        log = self.logs.get(ident)
        if log is None:
            log = self.logs[ident] = ThreadLog(threading.current_thread().name)
        if log.closed:
            return
        code = frame.f_code
        rel = self._rel(code.co_filename)
        if event == "call":
            log.depth += 1
        else:
            log.depth -= 1
            log.min_depth = min(log.min_depth, log.depth)
        if rel is not None:
            qual = code.co_qualname
            if qual.endswith(_FOLDED):  # part of its function, not a call of its own
                log.touched.add((rel, qual.rsplit(".<locals>.", 1)[0]))
            else:
                log.touched.add((rel, qual))
                if event == "call":
                    log.calls.append((next(self._seq), rel, qual))
        unit_over = event == "return" and log.report_seen and log.depth <= log.min_depth
        if unit_over and ident == self.out_thread and ident != self.in_thread:
            self._close()

    def open(self) -> None:
        self.active = True

    def _close(self) -> None:
        self.active = False
        self.done.set()

    def mark_report(self) -> None:
        """Called on the thread sending the ExecutionReport New."""
        ident = threading.get_ident()
        self.out_thread = ident
        log = self.logs.get(ident)
        if log is not None:
            log.report_seen = True
        if ident == self.in_thread:  # sent synchronously: the fromApp window covers it
            self.done.set()

    def close(self) -> None:
        self._close()

    def summary(self, all_threads: bool = False) -> dict[str, Any]:
        writers = [i for i, log in self.logs.items() if log.name == _WRITER and log.touched]
        counted = [i for i in (self.in_thread, *writers, self.out_thread) if i is not None]
        counted = list(dict.fromkeys(counted))
        others = [i for i, log in self.logs.items() if i not in counted and log.touched]
        if all_threads:
            counted, others = counted + others, []
        touched: set[tuple[str, str]] = set()
        seq: list[tuple[str, str]] = []
        for i in counted:
            log = self.logs.get(i)
            if log is not None:
                touched |= log.touched
                seq += [(f, q) for _, f, q in log.calls]
        switches = sum(1 for a, b in itertools.pairwise(seq) if a[0] != b[0])
        files = sorted({f for f, _ in touched})
        return {
            "functions": len(touched),
            "files": len(files),
            "call_sequence": len(seq),
            "file_switches": switches,
            "threads": [self.logs[i].name for i in counted if i in self.logs],
            "uncounted_threads": {self.logs[i].name: len(self.logs[i].calls) for i in others},
            "per_file": {f: sum(1 for g, _ in touched if g == f) for f in files},
            "function_list": sorted(f"{f}:{q}" for f, q in touched),
            "sequence": [f"{f}:{q}" for f, q in seq],
        }


_WRITER = "journal-writer"  # SqliteJournal's writer thread: the commit between the two


# -- the instance ---------------------------------------------------------------------------


@dataclass
class Instance:
    harness: Any
    acceptor: Any
    app: Any
    port: int
    client: Any


def _fix_app(acceptor: Any) -> Any:
    """The QuickFIX Application object behind the acceptor (its callbacks are hooked)."""
    import quickfix as fix

    app = getattr(acceptor, "app", None)
    if isinstance(app, fix.Application):
        return app
    for value in vars(acceptor).values():
        if isinstance(value, fix.Application):
            return value
    raise RuntimeError("no quickfix.Application found on the FIX acceptor")


def start_instance(root: Path, recorder: Recorder, traced: str) -> Instance:
    """A harness-built gateway (SQLite journal) behind a started FIX acceptor, its
    `fromApp`/`toApp` hooked for `traced`, and a logged-on desk."""
    harness_mod = ("interlock.sim.harness", "interlock.testing")
    fixkit_mod = ("interlock.sim.fix", "interlock.api.fix.testkit")
    build = _attr("build", *harness_mod)
    high_rate = _attr("high_rate", *harness_mod)
    mm_key = _attr("MM_KEY", *harness_mod)
    fix_client = _attr("FixClient", *fixkit_mod)
    free_port = _attr("free_port", *fixkit_mod)
    acceptor_cls = _attr("FixAcceptor", "interlock.api.fix")
    config_cls = _attr("FixAcceptorConfig", "interlock.api.fix", "interlock.gateway.listeners")
    login_cls = _attr("FixLogin", "interlock.api.fix", "interlock.gateway.listeners")
    journal_cls = _attr("SqliteJournal", "interlock.journal.sqlite", "interlock.journal")
    tap_cls = _attr("ExecutionTap", "interlock.venue.tap", "interlock.venue")

    harness = build(high_rate(), journal=journal_cls(root / "journal.db"))
    tap = tap_cls(harness.gateway)
    harness.venue.attach(tap)
    port = free_port()
    login = login_cls(comp_id="TRACE", username="market-making", account="mm-1",
                      strategy="trace")  # fmt: skip
    config = config_cls(port=port, sessions=(login,), file_log=False)
    acceptor = acceptor_cls(harness.gateway, tap, config, root / "acceptor")
    app = _fix_app(acceptor)
    _hook(app, recorder, traced)
    acceptor.start()
    client = fix_client(root / "desk", port, "TRACE", "market-making", mm_key, file_log=False)
    if not client.start():
        acceptor.stop()
        raise RuntimeError("the FIX client did not log on")
    return Instance(harness, acceptor, app, port, client)


def _tag(message: Any, tag: int) -> str | None:
    return str(message.getField(tag)) if message.isSetField(tag) else None


def _hook(app: Any, recorder: Recorder, traced: str) -> None:
    """Wrap the app's `fromApp` (opens the window for `traced`) and `toApp` (marks its
    ExecutionReport New). QuickFIX's SWIG director looks callbacks up by name on the
    object, so instance attributes take effect."""
    from_app: Callable[[Any, Any], None] = app.fromApp
    to_app: Callable[[Any, Any], None] = app.toApp

    def traced_from_app(message: Any, session_id: Any) -> None:
        if _tag(message, 11) != traced or message.getHeader().getField(35) != "D":
            from_app(message, session_id)
            return
        recorder.in_thread = threading.get_ident()
        recorder.open()
        try:
            from_app(message, session_id)
        finally:
            log = recorder.logs.get(threading.get_ident())
            if log is not None:
                log.closed = True  # this thread's window is the one call

    def traced_to_app(message: Any, session_id: Any) -> None:
        to_app(message, session_id)
        if recorder.active and _tag(message, 11) == traced and _tag(message, 150) == "0":
            recorder.mark_report()

    app.fromApp = traced_from_app
    app.toApp = traced_to_app


# -- the run --------------------------------------------------------------------------------


def _wait(pred: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.002)


def _quiet(recorder: Recorder, quiet_s: float = 0.05, timeout: float = 5.0) -> None:
    """Wait until no other thread has called Interlock code for `quiet_s` in a row
    (bounded by `timeout`): the warm-up's tail (releases, acks) is over."""
    recorder.watch(threading.get_ident())
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if time.monotonic() - recorder.last_busy >= quiet_s:
                return
            time.sleep(0.002)
    finally:
        recorder.watch(None)
    raise RuntimeError(f"threads still running Interlock code after {timeout} s")


def run(warmup: int = 30, all_threads: bool = False) -> dict[str, Any]:
    """Start, warm up, trace one order, stop; the summary (see `Recorder.summary`)."""
    with tempfile.TemporaryDirectory(prefix="order-trace-", ignore_cleanup_errors=True) as tmp:
        return _run(Path(tmp), warmup, all_threads)


def _run(root: Path, warmup: int, all_threads: bool) -> dict[str, Any]:
    import interlock

    src = os.path.dirname(os.path.abspath(interlock.__file__))
    recorder = Recorder(src)
    traced = "traced-1"
    threading.setprofile(recorder.profile)
    sys.setprofile(recorder.profile)
    try:
        inst = start_instance(root, recorder, traced)
    except BaseException:
        threading.setprofile(None)  # type: ignore[arg-type]
        sys.setprofile(None)
        raise
    try:
        acks: dict[str, str] = {}
        got = threading.Condition()

        def on_message(m: dict[int, str]) -> None:
            if m.get(35) == "8" and m.get(150) in ("0", "8"):
                with got:
                    acks[m[11]] = m[150]
                    got.notify_all()

        inst.client.on_message = on_message
        for i in range(warmup):
            inst.client.new_order(f"warm-{i}", "AAPL", "1", 10 + i, "100.00")
        _wait(lambda: len(acks) >= warmup, 10, f"{warmup} warm-up acks")
        refused = [k for k, v in acks.items() if v != "0"]
        if refused:
            raise RuntimeError(f"warm-up orders rejected: {refused[:3]}")
        inst.harness.journal.flush(10)
        _quiet(recorder)
        inst.client.new_order(traced, "AAPL", "1", 7, "100.00")
        _wait(lambda: traced in acks, 10, "the traced order's ExecutionReport")
        complete = recorder.done.wait(10)
        recorder.close()
        if acks[traced] != "0":
            raise RuntimeError("the traced order was rejected (150=8)")
    finally:
        threading.setprofile(None)  # type: ignore[arg-type]
        sys.setprofile(None)
        inst.client.stop()
        inst.acceptor.stop()
        inst.harness.gateway.close()
    result = recorder.summary(all_threads)
    result["complete"] = complete
    result["warmup_orders"] = warmup
    result["source"] = src
    return result


def _print(r: dict[str, Any], show_sequence: bool) -> None:
    console = Console()
    table = Table(title="One FIX NewOrderSingle, fromApp to ExecutionReport New sent")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for key in ("functions", "files", "call_sequence", "file_switches"):
        table.add_row(key, f"{r[key]:,}")
    table.add_row("threads counted", ", ".join(r["threads"]))
    others = ", ".join(f"{k} ({v} calls)" for k, v in r["uncounted_threads"].items())
    table.add_row("threads not counted", others or "-")
    table.add_row("window complete", "yes" if r["complete"] else "NO (timed out)")
    console.print(table)
    files = Table(title="Functions per file")
    files.add_column("file")
    files.add_column("functions", justify="right")
    for f, n in sorted(r["per_file"].items(), key=lambda kv: (-kv[1], kv[0])):
        files.add_row(f, str(n))
    console.print(files)
    if show_sequence:
        for i, step in enumerate(r["sequence"]):
            console.print(f"{i:4d} {step}", highlight=False)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--warmup", type=int, default=30, help="orders sent before the traced one")
    ap.add_argument("--json", type=Path, default=DEFAULT_JSON)
    ap.add_argument("--all-threads", action="store_true", help="count every thread's calls")
    ap.add_argument("--sequence", action="store_true", help="print the call sequence")
    args = ap.parse_args(argv)
    result = run(args.warmup, args.all_threads)
    _print(result, args.sequence)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0 if result["complete"] else 1


if __name__ == "__main__":
    sys.exit(main())
