"""The report's headline: one sentence, computed from the figures, that a risk officer can
act on without reading the tables. It says PASS only when `KnightReport.passed` holds, and
then quotes the figures that make it so; otherwise it names every run and band that failed.
"""

from __future__ import annotations

from interlock.replay.protected import RunResult
from interlock.replay.report import KnightReport, target_of
from interlock.replay.runs import BASELINE_TITLE, RUN_TITLES


def usd(x: float) -> str:
    """$0, $48, $43.9k, $11.2M, $0.496B: short money for tables."""
    for scale, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= scale:
            return f"${x / scale:,.{3 if suffix == 'B' else 1}f}{suffix}"
    return f"${x + 0.0:,.0f}"


def title_of(run: RunResult) -> str:
    """The run's plain name; its id (report.json's key) if it has none."""
    return RUN_TITLES.get(run.name, run.name)


def _halt(run: RunResult) -> str:
    return "never halted" if run.halt_after_s is None else f"halted {run.halt_after_s:.1f} s"


def _failures(report: KnightReport) -> list[str]:
    misses = [f"{title_of(r)} missed its target ({target_of(r)[0]}): stale server routed "
              f"{r.stale_orders_routed:,}, loss {usd(r.loss_usd)}, {_halt(r)} after 09:30"
              for r in report.runs if not target_of(r)[1]]  # fmt: skip
    if report.minutes == 45:
        misses += [f"{BASELINE_TITLE}: {band.label} {value:,.0f} outside the SEC band {band.target}"
                   for band, value, ok in report.band_marks() if not ok]  # fmt: skip
    return misses


def verdict(report: KnightReport) -> str:
    """PASS or FAIL, and why, in one line."""
    if not report.passed:
        return "Verdict: FAIL. " + "; ".join(_failures(report)) + "."
    b = report.baseline
    parts = [f"{BASELINE_TITLE}, the stale server's runaway loses {usd(b.loss_usd)} in "
             f"{b.runaway_minutes:.0f} min ({b.executions / 1e6:.1f} M executions)"]  # fmt: skip
    gated = [r for r in report.runs if r.name == "full"]
    if gated:
        parts.append(f"with Interlock, the stale server gets {gated[0].stale_orders_routed:,} "
                     f"orders out and loses {usd(gated[0].loss_usd)}")  # fmt: skip
    ungated = [r for r in report.runs if r.name != "full"]
    if ungated:
        worst = max(ungated, key=lambda r: r.loss_usd)
        halts = [r.halt_after_s for r in ungated]
        stops = ("holds it" if None in halts else
                 f"halts it within {max(h or 0.0 for h in halts):.1f} s of the open")  # fmt: skip
        parts.append(f"with the fleet gate off, every other defence still {stops}, losing at "
                     f"most {usd(worst.loss_usd)} "
                     f"({title_of(worst).removeprefix('Fleet gate off: ')})")  # fmt: skip
    met = f"all {len(report.runs)} protected runs met their targets"
    return f"Verdict: PASS. {'; '.join(parts)}; {met}."
