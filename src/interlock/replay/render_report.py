"""The report as people read it: two Rich tables and a self-contained HTML page."""

from __future__ import annotations

import base64
import html
from pathlib import Path

from rich.table import Table
from rich.text import Text

from interlock.replay.report import KnightReport, target_of
from interlock.replay.scenario import clock_text


def _fmt(key: str, value: float) -> str:
    if key.endswith("_usd"):
        return f"${value / 1e9:,.3f} B" if abs(value) >= 1e8 else f"${value:,.0f}"
    if key in ("executions", "shares"):
        return f"{value / 1e6:,.3f} M"
    if key == "runaway_minutes":
        return f"{value:.1f}"
    return f"{value:,.0f}"


def baseline_rows(report: KnightReport) -> list[tuple[str, str, str, bool]]:
    return [(b.label, _fmt(b.key, v), b.target, ok) for b, v, ok in report.band_marks()]


def usd(x: float) -> str:
    """$0, $48, $43.9k, $11.2M, $0.496B: short money for tables."""
    for scale, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= scale:
            return f"${x / scale:,.{3 if suffix == 'B' else 1}f}{suffix}"
    return f"${x:,.0f}"


def protected_rows(report: KnightReport) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for r in report.runs:
        _, ok = target_of(r)
        halt = "-" if r.halt_after_s is None else f"{r.halt_after_s:.1f} s"
        rows.append((r.name, f"{r.stale_orders_routed:,}", f"{r.executions:,}",
                     f"{r.shares:,}", usd(r.peak_gross_usd), usd(r.loss_usd + 0.0),
                     halt, r.first_reject_code or "-", "✔" if ok else "✘"))  # fmt: skip
    return rows


PROTECTED_COLUMNS = ("run", "stale out", "execs", "shares", "peak gross", "loss",
                     "halt", "first reject", "target")  # fmt: skip
TARGETS = ("targets: full: the stale server routes 0 orders; each defence alone: loss <= $1M; "
           "all: loss <= $10k and halt <= 2 s after the first runaway child")  # fmt: skip


def tables(report: KnightReport) -> list[Table]:
    base = Table(title=f"Baseline: no interlock (seed {report.seed}) beside the SEC's figures")
    for col in ("figure", "replay", "SEC target (band)", ""):
        base.add_column(col)
    for label, value, target, ok in baseline_rows(report):
        mark = Text("✔ in band", style="green") if ok else Text("✘ out of band", style="bold red")
        base.add_row(label, value, target, mark)
    prot = Table(title="Protected: the same routers behind real Interlock gateways "
                 "(halt: seconds from 09:30)", caption=TARGETS)  # fmt: skip
    for col in PROTECTED_COLUMNS:
        prot.add_column(col, no_wrap=True)
    for row in protected_rows(report):
        style = "green" if row[-1] == "✔" else "bold red"
        prot.add_row(*row[:-1], Text(row[-1], style=style))
    return [base, prot]


def readiness_line(report: KnightReport) -> str:
    r = report.runs[0].readiness if report.runs else None
    if r is None:
        return "Pre-open readiness: not checked"
    first = clock_text(r.first.ts) if r.first else "-"
    last = clock_text(r.last.ts) if r.last else "-"
    return (f"Pre-open readiness gate at 09:30: {r.summary()}; first {first}, last {last}; "
            "paged the on-call at the first warning and again at the open")  # fmt: skip


def _img(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img alt="{html.escape(path.stem)}" src="data:image/png;base64,{data}">'


def write_html(report: KnightReport, plots: list[Path], path: Path) -> None:
    e = html.escape
    base = "".join(
        f"<tr><td>{e(a)}</td><td>{e(b)}</td><td>{e(c)}</td>"
        f"<td class={'ok' if ok else 'bad'}>{'in band' if ok else 'OUT OF BAND'}</td></tr>"
        for a, b, c, ok in baseline_rows(report)
    )
    head = "".join(f"<th>{e(c)}</th>" for c in PROTECTED_COLUMNS)
    prot = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>"
                   for row in protected_rows(report))  # fmt: skip
    notes = "".join(
        f"<h3>{e(r.name)}</h3><ul>" + "".join(f"<li>{e(n)}</li>" for n in r.notes) + "</ul>"
        for r in report.runs
    )
    b = report.baseline
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Knight 2012 replay, seed {report.seed}</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:2em auto}}
table{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #ccc;padding:3px 8px}}
.ok{{color:#070}}.bad{{color:#b00;font-weight:bold}}img{{max-width:100%}}</style></head><body>
<h1>1 August 2012, replayed: Knight's SMARS without and with Interlock</h1>
<p>Seed {report.seed}; runaway {report.minutes} minutes; the whole replay took
{report.runtime_s:.1f} s. {e(readiness_line(report))}.</p>
<p>Side figures (not bands): the baseline sent {b.child_orders:,} child orders; its impact
moved {b.moved_5pct} stocks more than 5% and {b.moved_10pct} more than 10% (SEC: 75 and 37).</p>
<h2>Baseline beside the SEC's figures</h2>
<table><tr><th>figure</th><th>replay</th><th>SEC target (band)</th><th></th></tr>{base}</table>
<h2>Protected runs</h2><table><tr>{head}</tr>{prot}</table><p>{e(TARGETS)}</p>
{"".join(_img(p) for p in plots)}
<h2>What happened in each run</h2>{notes}
</body></html>
"""
    path.write_text(page)
