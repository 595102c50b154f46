"""The report as people read it: a verdict line, two Rich tables with a legend, and a
self-contained HTML page. Runs go by their plain names (`runs.RunSpec.title`); the ids stay
the keys of report.json. Nothing here prints a file path: the page and the terminal say what
was written, not where on this machine."""

from __future__ import annotations

import base64
import html
from pathlib import Path

from rich.table import Table
from rich.text import Text

from interlock.api.config import load_config
from interlock.domain.reject import RejectCode
from interlock.replay.message_budget import message_budget
from interlock.replay.report import KnightReport, target_of
from interlock.replay.runs import BASELINE_TITLE
from interlock.replay.scenario import clock_text
from interlock.replay.verdict import title_of, usd, verdict


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


def protected_rows(report: KnightReport) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for r in report.runs:
        _, ok = target_of(r)
        halt = "none" if r.halt_after_s is None else f"{r.halt_after_s:.1f} s"
        rows.append((title_of(r), f"{r.stale_orders_routed:,}", f"{r.executions:,}",
                     f"{r.shares:,}", usd(r.peak_gross_usd), usd(r.loss_usd + 0.0),
                     halt, r.first_reject_code or "-", "✔" if ok else "✘"))  # fmt: skip
    return rows


LEGEND = (
    ("run", "which of Interlock's defences were on; 'fleet gate off' lets the stale server "
     "trade, as Knight's did, to test each other defence on its own"),
    ("stale out", "child orders the stale server (gw-8) got out to the exchange"),
    ("execs", "executions on all eight servers, the customers' own fills included"),
    ("shares", "shares executed on all eight servers"),
    ("peak gross", "largest gross value of the firm's own position (fills beyond what "
     "customers ordered), at the mid"),
    ("loss", "loss on that position once sold to a dealer, the baseline's accounting"),
    ("halt", "seconds from the 09:30 open to the first halt; none: nothing needed halting"),
    ("first reject", "the stable reject code the first runaway child was refused with "
     "(Interlock's list of reject codes says what each means)"),
    ("target", "✔ met, ✘ missed its target (below)"),
)  # fmt: skip
PROTECTED_COLUMNS = tuple(column for column, _ in LEGEND)
TARGETS = ("targets: with Interlock, the stale server routes 0 orders; each defence alone: "
           "loss <= $1M; every other defence together: loss <= $10k and a halt <= 2 s after "
           "the first runaway child")  # fmt: skip


def tables(report: KnightReport) -> list[Table]:
    base = Table(title=f"{BASELINE_TITLE} (seed {report.seed}) beside the SEC's figures")
    for col in ("figure", "replay", "SEC target (band)", ""):
        base.add_column(col)
    for label, value, target, ok in baseline_rows(report):
        mark = Text("✔ in band", style="green") if ok else Text("✘ out of band", style="bold red")
        base.add_row(label, value, target, mark)
    prot = Table(title="With Interlock: the same routers behind real Interlock gateways",
                 caption=legend_text(), caption_justify="left")  # fmt: skip
    prot.add_column(PROTECTED_COLUMNS[0], max_width=30)  # plain names wrap; figures never do
    for col in PROTECTED_COLUMNS[1:]:
        prot.add_column(col, no_wrap=True)
    for row in protected_rows(report):
        style = "green" if row[-1] == "✔" else "bold red"
        prot.add_row(*row[:-1], Text(row[-1], style=style))
    return [base, prot]


def legend_text() -> str:
    return "\n".join(f"{column}: {meaning}" for column, meaning in LEGEND) + "\n" + TARGETS


def readiness_line(report: KnightReport) -> str:
    r = report.runs[0].readiness if report.runs else None
    if r is None:
        return "Pre-open readiness: not checked"
    first = clock_text(r.first.ts) if r.first else "-"
    last = clock_text(r.last.ts) if r.last else "-"
    return (f"Pre-open readiness gate at 09:30: {r.summary()}; first {first}, last {last}; "
            "paged the on-call at the first warning and again at the open")  # fmt: skip


def reg_sho_line(report: KnightReport) -> str:
    """Reg SHO beside 15c3-5 (Rules 200(g), 203(b)): the runaway's sales refused as
    mis-marked, and its short sales refused for want of a locate, in each run that kept
    those checks on. The scenario marks every sale `sell` (long), as Knight did, so NO_LOCATE
    is honestly 0: each of Knight's short sales reaches SHORT_MARKING first."""
    kept = [r for r in report.runs if r.name in ("full", "no_fleet_gate:all")]
    parts = [
        f"{title_of(r)}: {r.refused[RejectCode.SHORT_MARKING.value]:,} sales marked long past "
        f"the customer's shares refused SHORT_MARKING, "
        f"{r.refused[RejectCode.NO_LOCATE.value]:,} short sales refused NO_LOCATE"
        for r in kept
    ]
    why = " (the scenario marks every sale long, as Knight did: none is marked short)"
    return "Reg SHO (Rules 200(g), 203(b)): " + "; ".join(parts) + why


def market_rules_line(report: KnightReport) -> str:
    """Self-trade prevention and the fat-finger against ADV, both on in every protected run
    that keeps the packaged checks: what each refused of the runaway's children. Counted
    from the runs' own refusals, so a zero is a zero the gateways decided."""
    kept = [r for r in report.runs if r.name in ("full", "no_fleet_gate:all")]
    parts = [
        f"{title_of(r)}: {r.refused[RejectCode.SELF_TRADE.value]:,} orders refused SELF_TRADE "
        f"(crossing the firm's own working orders), "
        f"{r.refused[RejectCode.ADV_LIMIT.value]:,} refused ADV_LIMIT (over their share of the "
        f"stock's average daily volume)"
        for r in kept
    ]
    return "Self-trade prevention and ADV: " + "; ".join(parts)


def message_budget_line(report: KnightReport) -> str:
    """The packaged message throttle and order-to-trade ratio against the baseline's flow."""
    return message_budget(report.baseline, load_config().limits).line()


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
    legend = "".join(f"<dt>{e(c)}</dt><dd>{e(m)}</dd>" for c, m in LEGEND)
    notes = "".join(
        f"<h3>{e(title_of(r))} <small>(report.json: {e(r.name)})</small></h3><ul>"
        + "".join(f"<li>{e(n)}</li>" for n in r.notes) + "</ul>"
        for r in report.runs
    )  # fmt: skip
    ok = "ok" if report.passed else "bad"
    b = report.baseline
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Knight 2012 replay, seed {report.seed}</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:2em auto}}
table{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #ccc;padding:3px 8px}}
.ok{{color:#070}}.bad{{color:#b00;font-weight:bold}}img{{max-width:100%}}
.verdict{{font-size:1.2em;font-weight:bold;border:2px solid;padding:.5em}}
dt{{font-weight:bold;float:left;clear:left;width:7em}}dd{{margin-left:8em}}</style></head><body>
<h1>1 August 2012, replayed: Knight's SMARS without and with Interlock</h1>
<p class="verdict {ok}">{e(verdict(report))}</p>
<p>Seed {report.seed}; runaway {report.minutes} minutes; the whole replay took
{report.runtime_s:.1f} s. {e(readiness_line(report))}.</p>
<p>{e(reg_sho_line(report))}.</p>
<p>Side figures (not bands): the baseline sent {b.child_orders:,} child orders; its impact
moved {b.moved_5pct} stocks more than 5% and {b.moved_10pct} more than 10% (SEC: 75 and 37).</p>
<p>{e(message_budget_line(report))}.</p>
<p>{e(market_rules_line(report))}.</p>
<h2>{e(BASELINE_TITLE)}, beside the SEC's figures</h2>
<table><tr><th>figure</th><th>replay</th><th>SEC target (band)</th><th></th></tr>{base}</table>
<h2>With Interlock: the same routers behind real Interlock gateways</h2>
<table><tr>{head}</tr>{prot}</table><dl>{legend}</dl><p>{e(TARGETS)}</p>
{"".join(_img(p) for p in plots)}
<h2>What happened in each run</h2>{notes}
</body></html>
"""
    path.write_text(page)
