"""`interlock replay knight`: the baseline, the seven protected runs, the report files."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from interlock.replay.baseline import run_baseline
from interlock.replay.market import KnightMarket, MarketParams
from interlock.replay.plots import write_plots
from interlock.replay.protected import run_protected
from interlock.replay.render_report import write_html
from interlock.replay.report import KnightReport
from interlock.replay.runs import RUNS
from interlock.replay.scenario import build_scenario

DEFAULT_SEED = 2012
Step = Callable[[str, float], None]  # (what is running, fraction of the whole done)


def run_knight(
    seed: int = DEFAULT_SEED,
    minutes: int = 45,
    out: Path | None = None,
    step: Step | None = None,
    params: MarketParams | None = None,
) -> KnightReport:
    """Replay the day; with `out`, write report.json, report.html and the PNG plots."""
    started = time.perf_counter()
    tell = step or (lambda what, done: None)
    scenario = build_scenario(seed, minutes)
    market = KnightMarket(scenario, params)
    parts = 1 + len(RUNS) + (1 if out is not None else 0)
    tell("baseline: the routers with no interlock", 0.0)
    baseline = run_baseline(scenario, market, lambda f: tell("baseline", f / parts))
    runs = []
    for n, spec in enumerate(RUNS, start=1):
        tell(f"protected run {spec.name}", n / parts)
        runs.append(run_protected(scenario, market, spec))
    report = KnightReport(seed, minutes, 0.0, baseline, tuple(runs))
    if out is not None:
        tell("plots and report", (parts - 1) / parts)
        out.mkdir(parents=True, exist_ok=True)
        plots = write_plots(report, out)
        report = _with_runtime(report, started)
        write_html(report, plots, out / "report.html")
        report.write_json(out / "report.json")
    tell("done", 1.0)
    return _with_runtime(report, started)


def _with_runtime(report: KnightReport, started: float) -> KnightReport:
    return KnightReport(report.seed, report.minutes, time.perf_counter() - started,
                        report.baseline, report.runs)  # fmt: skip
