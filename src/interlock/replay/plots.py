"""The report's plots, drawn with matplotlib's Agg backend (no display needed).

- executions.png, loss.png: left, the cumulative figure against time since 09:30 for every
  run; right, where each run ended, one labelled marker per run. Both value axes are
  symlog, so a run that stayed at zero sits on a visible zero line instead of vanishing off
  a log axis; time is symlog too (linear over the first second, then by decades), so the
  first seconds, where every defence acts, get as much room as the next 45 minutes. Runs
  that end on the same value carry their own marker shape at staggered times, and the
  right panel gives each its own row with its value written beside it.
- positions.png: the baseline's end position by stock, long and short, in USD.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, NullFormatter

from interlock.replay.report import KnightReport
from interlock.replay.runs import BASELINE_TITLE
from interlock.replay.verdict import title_of, usd

PLOTS = ("executions.png", "loss.png", "positions.png")
EXECUTIONS, LOSS = 1, 2  # the column of a protected run's curve point (s, execs, loss)
TIME_TICKS = ((0, "0"), (1, "1 s"), (10, "10 s"), (60, "1 min"), (600, "10 min"),
              (2700, "45 min"))  # fmt: skip
MARKERS = "osD^vP*X"
Series = tuple[str, np.ndarray, np.ndarray]  # (plain name, seconds after 09:30, values)


def _series(report: KnightReport, which: int) -> list[Series]:
    b = report.baseline
    base_y = b.cum_executions if which == EXECUTIONS else b.loss_curve
    out = [(BASELINE_TITLE, np.array([0.0, *b.seconds]), np.array([0.0, *base_y]))]
    for r in report.runs:
        xs = np.array([point[0] for point in r.curve], dtype=float)
        ys = np.array([float(point[which]) for point in r.curve])
        out.append((title_of(r), xs, ys))
    return out


def _with_marks(xs: np.ndarray, ys: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """The step curve resampled with extra points at run k's marker times, and their
    indices: each run marks itself at its own times, so equal curves stay distinguishable."""
    end = float(xs[-1]) if len(xs) else 0.0
    marks = [t for t in 10 ** (np.arange(-0.6, 3.5, 0.5) + 0.06 * k) if t <= end]
    grid = np.union1d(xs, marks)
    at = np.clip(np.searchsorted(xs, grid, side="right") - 1, 0, len(ys) - 1)
    return grid, ys[at], [int(np.searchsorted(grid, t)) for t in marks]


def _time_axis(ax: Axes, end: float) -> None:
    ax.set_xscale("symlog", linthresh=1.0, linscale=1.0)
    names = dict(TIME_TICKS)
    ticks = [float(t) for t in names if t < end] + [end]
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.set_xticklabels([names.get(int(t), f"{t / 60:.0f} min") for t in ticks])
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlim(0, end)
    ax.set_xlabel("time after the 09:30 open (linear to 1 s, then by decades)")


def _ends_axis(ax: Axes, top: float, money: bool) -> None:
    """Decades every thousand, and room on the right for the largest value's label."""
    ticks = [0.0, *(10.0**e for e in range(0, int(np.log10(max(top, 1.0))) + 1, 3))]
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.set_xticklabels([usd(t) if money else f"{t:,.0f}" for t in ticks], fontsize=8)
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlim(-0.5, max(top, 1.0) * 3_000)


def time_figure(report: KnightReport, which: int, ylabel: str) -> Figure:
    """The figure of executions.png (which=EXECUTIONS) or loss.png (which=LOSS)."""
    fig, (ax, ends) = plt.subplots(1, 2, figsize=(12, 5.2), dpi=90, width_ratios=(3, 2),
                                   layout="constrained")  # fmt: skip
    series = _series(report, which)
    end = max(float(xs[-1]) for _, xs, _ in series)
    money = which == LOSS
    for k, (label, xs, ys) in enumerate(series):
        grid, values, marks = _with_marks(xs, ys, k)
        color = "black" if k == 0 else f"C{k - 1}"
        ax.plot(grid, values, drawstyle="steps-post", color=color, label=label,
                linewidth=2.2 if k == 0 else 1.3, linestyle="-" if k == 0 else "--",
                marker=MARKERS[k % len(MARKERS)], markevery=marks, markersize=6)  # fmt: skip
        final = float(ys[-1]) if len(ys) else 0.0
        ends.plot([final], [k], marker=MARKERS[k % len(MARKERS)], color=color, markersize=8,
                  linestyle="none", label=label)  # fmt: skip
        text = usd(final) if money else f"{final:,.0f}"
        ends.annotate(text, (final, k), xytext=(8, 0), textcoords="offset points",
                      va="center", fontsize=8)  # fmt: skip
    for axis in (ax.set_yscale, ends.set_xscale):
        axis("symlog", linthresh=1.0)
    ax.set_ylim(bottom=-0.5)
    _ends_axis(ends, max(float(ys[-1]) for _, _, ys in series if len(ys)), money)
    _time_axis(ax, end)
    ax.set_ylabel(f"{ylabel} (symlog: 0 is drawn)")
    ax.set_title(f"{ylabel} over the runaway")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=7, loc="upper left")
    ends.set_yticks(range(len(series)), [label for label, _, _ in series], fontsize=8)
    ends.yaxis.tick_right()
    ends.invert_yaxis()
    ends.set_xlabel(f"{ylabel} at the end (symlog)")
    ends.set_title("where each run ended")
    ends.grid(True, axis="x", alpha=0.3)
    fig.suptitle(f"1 August 2012 replayed (seed {report.seed}): {ylabel}")
    return fig


def positions_figure(report: KnightReport) -> Figure:
    values = np.sort(report.baseline.position_usd)[::-1] / 1e6
    fig, ax = plt.subplots(figsize=(9, 4.5), dpi=90, layout="constrained")
    colors = ["tab:green" if v > 0 else "tab:red" for v in values]
    ax.bar(np.arange(len(values)), values, color=colors, width=1.0)
    b = report.baseline
    ax.set_title(f"{BASELINE_TITLE}: end position by stock: {b.long_symbols} long "
                 f"(\\${b.net_long_usd / 1e9:.2f} B), {b.short_symbols} short "
                 f"(\\${b.net_short_usd / 1e9:.2f} B)")  # fmt: skip
    ax.set_xlabel("stocks, largest long to largest short")
    ax.set_ylabel("USD million (what it cost)")
    ax.axhline(0, color="black", linewidth=0.6)
    return fig


def _save(fig: Figure, path: Path) -> None:
    fig.savefig(path, metadata={"Software": None})
    plt.close(fig)


def write_plots(report: KnightReport, out: Path) -> list[Path]:
    paths = [out / name for name in PLOTS]
    _save(time_figure(report, EXECUTIONS, "cumulative executions"), paths[0])
    _save(time_figure(report, LOSS, "loss, USD"), paths[1])
    _save(positions_figure(report), paths[2])
    return paths
