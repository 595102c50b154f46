"""The report's plots, drawn with matplotlib's Agg backend (no display needed).

- executions.png, loss.png: cumulative executions and loss against time since 09:30, per
  run (the baseline and every protected run), on a log scale;
- positions.png: the baseline's end position by stock, long and short, in USD.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np

from interlock.replay.report import KnightReport

PLOTS = ("executions.png", "loss.png", "positions.png")


def _curves(report: KnightReport, which: int) -> list[tuple[str, list[float], list[float]]]:
    b = report.baseline
    base_y = b.cum_executions if which == 1 else b.loss_curve
    out = [("baseline (no interlock)", [0.0, *b.seconds.tolist()], [0.0, *base_y.tolist()])]
    for r in report.runs:
        xs = [t for t, _, _ in r.curve]
        ys = [float(point[which]) for point in r.curve]
        out.append((r.name, xs, ys))
    return out


def _time_plot(report: KnightReport, which: int, ylabel: str, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(9, 5), dpi=110)
    for label, xs, ys in _curves(report, which):
        y = np.maximum(np.array(ys, dtype=float), 1.0)  # log scale: nothing below 1
        style = "-" if label.startswith("baseline") else "--"
        ax.step(np.array(xs) / 60, y, style, where="post", label=label, linewidth=1.4)
    ax.set_yscale("log")
    ax.set_xlabel("minutes after 09:30")
    ax.set_ylabel(ylabel)
    ax.set_title(f"{ylabel}: 1 August 2012 replayed (seed {report.seed})")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    fig.savefig(path, metadata={"Software": None})
    plt.close(fig)


def _positions_plot(report: KnightReport, path: Path) -> None:
    values = np.sort(report.baseline.position_usd)[::-1] / 1e6
    fig, ax = plt.subplots(figsize=(9, 4.5), dpi=110)
    colors = ["tab:green" if v > 0 else "tab:red" for v in values]
    ax.bar(np.arange(len(values)), values, color=colors, width=1.0)
    b = report.baseline
    ax.set_title(f"baseline end position by stock: {b.long_symbols} long "
                 f"(\\${b.net_long_usd / 1e9:.2f} B), {b.short_symbols} short "
                 f"(\\${b.net_short_usd / 1e9:.2f} B)")  # fmt: skip
    ax.set_xlabel("stocks, largest long to largest short")
    ax.set_ylabel("USD million (what it cost)")
    ax.axhline(0, color="black", linewidth=0.6)
    fig.tight_layout()
    fig.savefig(path, metadata={"Software": None})
    plt.close(fig)


def write_plots(report: KnightReport, out: Path) -> list[Path]:
    paths = [out / name for name in PLOTS]
    _time_plot(report, 1, "cumulative executions", paths[0])
    _time_plot(report, 2, "loss, USD", paths[1])
    _positions_plot(report, paths[2])
    return paths
