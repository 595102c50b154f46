"""The report reads in one minute: a verdict computed from the figures, plain run names, a
legend, plots where zero-loss runs and the first seconds are visible, and no machine paths
in anything it prints or writes, whatever `--out` is."""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import re
import struct
import zlib
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from rich.console import Console
from typer.testing import CliRunner

from interlock.cli import app
from interlock.replay import RUNS, KnightReport
from interlock.replay.plots import EXECUTIONS, LOSS, PLOTS, time_figure
from interlock.replay.render_report import (
    LEGEND,
    market_rules_line,
    reg_sho_line,
    tables,
    write_html,
)
from interlock.replay.runs import BASELINE_TITLE
from interlock.replay.verdict import usd, verdict

TITLES = [spec.title for spec in RUNS]


def _with_run(report: KnightReport, name: str, **changes: object) -> KnightReport:
    runs = tuple(replace(r, **changes) if r.name == name else r for r in report.runs)
    return replace(report, runs=runs)


def test_verdict_on_the_default_day_passes_and_quotes_the_figures(knight: KnightReport) -> None:
    line = verdict(knight)
    assert line.startswith("Verdict: PASS.") and "\n" not in line
    ungated = [r for r in knight.runs if r.name != "full"]
    worst = max(ungated, key=lambda r: r.loss_usd)
    assert usd(knight.baseline.loss_usd) in line  # $495.9M
    assert "gets 0 orders out" in line
    assert f"at most {usd(worst.loss_usd)}" in line and "daily loss limit alone" in line
    assert f"within {max(r.halt_after_s or 0 for r in ungated):.1f} s" in line


def test_verdict_fails_naming_a_defence_whose_loss_breaks_its_target(
    knight: KnightReport,
) -> None:
    broken = _with_run(knight, "no_fleet_gate:rate_envelope", loss_usd=2_000_000.0)
    line = verdict(broken)
    assert line.startswith("Verdict: FAIL.")
    assert "Fleet gate off: rate limits alone missed its target (loss <= $1M)" in line
    assert "loss $2.0M" in line and "PASS" not in line


def test_verdict_fails_when_the_stale_server_routes_one_order_through_the_fleet_gate(
    knight: KnightReport,
) -> None:
    line = verdict(_with_run(knight, "full", stale_orders_routed=1))
    assert line.startswith("Verdict: FAIL.")
    assert "With Interlock: old build refused at deploy missed its target" in line
    assert "stale server routed 1," in line


def test_verdict_fails_when_the_baseline_leaves_an_sec_band(knight: KnightReport) -> None:
    broken = replace(knight, baseline=replace(knight.baseline, loss_usd=600e6))
    line = verdict(broken)
    assert line.startswith("Verdict: FAIL.")
    assert f"{BASELINE_TITLE}: loss, USD 600,000,000 outside the SEC band 460 M" in line


def _rendered(report: KnightReport) -> str:
    screen = Console(width=130, record=True, file=open(os.devnull, "w"))  # noqa: SIM115
    for table in tables(report):
        screen.print(table)
    return screen.export_text()


def test_tables_name_every_run_plainly_and_explain_every_column(knight: KnightReport) -> None:
    rendered = _rendered(knight)
    text = " ".join(rendered.split())
    first_cells = " ".join(
        line.split("│")[1].strip() for line in rendered.splitlines() if line.startswith("│")
    )  # the run column, its wrapping undone
    for title in TITLES:
        assert title in first_cells, title
    assert "no_fleet_gate" not in text and "│ full " not in rendered
    assert f"{BASELINE_TITLE} (seed {knight.seed})" in text
    for column, meaning in LEGEND:
        assert f"{column}: {' '.join(meaning.split())}" in text, column


def test_page_opens_with_the_verdict_and_names_runs_plainly(
    knight: KnightReport, tmp_path: Path
) -> None:
    page_path = tmp_path / "report.html"
    write_html(knight, [], page_path)
    page = page_path.read_text()
    body = page[page.index("<body>") :]
    assert body.index('class="verdict ok"') < body.index("<h2>")
    assert body.count("Verdict: PASS.") == 1
    rows = re.findall(r"<tr><td>([^<]*)</td>", body)
    assert [r for r in rows if r in TITLES] == TITLES  # the protected rows, in order
    assert not any(r.startswith(("full", "no_fleet_gate")) for r in rows)
    for column, _ in LEGEND:
        assert f"<dt>{column}</dt>" in page
    failed = _with_run(knight, "full", stale_orders_routed=3)
    write_html(failed, [], page_path)
    assert '<p class="verdict bad">Verdict: FAIL.' in page_path.read_text()


def _lines(ax: Axes) -> dict[str, Line2D]:
    return {str(line.get_label()): line for line in ax.get_lines()}


def test_loss_plot_draws_zero_loss_runs_on_a_visible_zero_each_apart(
    knight: KnightReport,
) -> None:
    zero = [spec.title for spec, r in zip(RUNS, knight.runs, strict=True) if r.loss_usd == 0]
    assert len(zero) >= 2  # the default day has three: the case the issue is about
    fig = time_figure(knight, LOSS, "loss, USD")
    curves, ends = fig.axes[:2]
    assert curves.get_yscale() == "symlog" and ends.get_xscale() == "symlog"
    low, high = curves.get_ylim()
    assert low < 0 < high  # zero is inside the axes, not on (or off) its edge
    lines = _lines(curves)
    assert set(lines) == {BASELINE_TITLE, *TITLES}
    marked: dict[str, set[float]] = {}
    for title in zero:
        line = lines[title]
        ys = line.get_ydata()
        assert ys[-1] == 0.0 and min(ys) == 0.0  # drawn at $0, not clamped to $1
        assert line.get_marker() not in ("None", None, "", " ")
        marks = line.get_markevery()
        assert isinstance(marks, list) and len(marks) >= 3
        marked[title] = {float(line.get_xdata()[i]) for i in marks}
    shapes = {lines[t].get_marker() for t in zero}
    assert len(shapes) == len(zero)  # each zero run its own marker shape...
    for a in zero:  # ...at its own times, so none hides another
        for b in zero:
            assert a == b or not marked[a] & marked[b], (a, b)
    end_points = _lines(ends)
    labels = [t.get_text() for t in ends.texts]
    for row, (title, r) in enumerate(zip(TITLES, knight.runs, strict=True), start=1):
        xs, ys = end_points[title].get_data()
        assert (list(xs), list(ys)) == ([r.loss_usd], [row])  # its own row, its own value
        assert labels[row] == usd(r.loss_usd)


def _share_of_width(ax: Axes, t: float) -> float:
    """How much of the time axis's width the span from its start to `t` takes."""
    x0, x_end = ax.get_xlim()
    px = ax.transData.transform([(x0, 0), (t, 0), (x_end, 0)])[:, 0]
    return float((px[1] - px[0]) / (px[2] - px[0]))


def test_time_axis_gives_the_first_seconds_room(knight: KnightReport) -> None:
    for which in (EXECUTIONS, LOSS):
        ax = time_figure(knight, which, "y").axes[0]
        x0, x_end = ax.get_xlim()
        assert x0 == 0 and x_end == pytest.approx(45 * 60)
        assert _share_of_width(ax, 1.0) >= 0.15  # the first second: a sixth of the axis
        assert _share_of_width(ax, 60.0) >= 0.5  # the first minute: half of it
        assert [t.get_text() for t in ax.get_xticklabels()][:3] == ["0", "1 s", "10 s"]


def _png_text(data: bytes) -> bytes:
    """The PNG's text chunks (where a path could hide), not its compressed pixels."""
    out, at = b"", 8
    while at < len(data):
        size, kind = struct.unpack(">I4s", data[at : at + 8])
        body = data[at + 8 : at + 8 + size]
        out += zlib.decompress(body.split(b"\0", 2)[-1][1:]) if kind == b"zTXt" else (
            body if kind in (b"tEXt", b"iTXt") else b"")  # fmt: skip
        at += 12 + size
    return out


ABSOLUTE = re.compile(r"(?<![\w<.])/(?:[\w.-]+/)+[\w.-]*")  # /x/y..., not </td> or a/b


@pytest.mark.parametrize("relative", [False, True], ids=["absolute-out", "relative-out"])
def test_nothing_printed_or_written_holds_a_machine_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, relative: bool
) -> None:
    monkeypatch.chdir(tmp_path)
    out = Path("nested/knight") if relative else tmp_path / "deep" / "knight-out"
    result = CliRunner().invoke(app, ["replay", "knight", "--out", str(out), "--minutes", "3"])
    assert result.exit_code == 0, result.output
    page = (out / "report.html").read_text()
    images = re.findall(r"base64,([A-Za-z0-9+/=]+)", page)
    assert len(images) == len(PLOTS)
    texts = {
        "terminal": result.output,
        "report.html": re.sub(r"base64,[A-Za-z0-9+/=]+", "", page),
        "report.json": json.dumps(json.loads((out / "report.json").read_text())),
    }
    for name in PLOTS:
        texts[name] = _png_text((out / name).read_bytes()).decode("latin-1")
    texts["embedded images"] = "".join(_png_text(base64.b64decode(i)).decode("latin-1")
                                       for i in images)  # fmt: skip
    here = {str(tmp_path), str(tmp_path.resolve()), str(out), str(Path.home()), os.getcwd()}
    for what, text in texts.items():
        assert not any(p in text for p in here), what
        assert not re.search(r"/(tmp|home|root|work|var|usr)\b", text), what
        assert not ABSOLUTE.search(text), (what, ABSOLUTE.search(text))
    assert "written to the --out directory: report.html, report.json" in result.output
    assert result.output.lstrip().startswith("Verdict: PASS.")


def test_the_reg_sho_line_counts_the_mis_marked_sales_and_the_short_sales_honestly(
    knight: KnightReport,
) -> None:
    line = reg_sho_line(knight)
    runs = {r.name: r for r in knight.runs}
    every = runs["no_fleet_gate:all"].refused
    assert every["SHORT_MARKING"] > 0  # the runaway's sales past the customers' shares
    assert f"{every['SHORT_MARKING']:,} sales marked long" in line
    assert runs["full"].refused["NO_LOCATE"] == every["NO_LOCATE"] == 0  # none marked short
    assert "0 short sales refused NO_LOCATE" in line and "none is marked short" in line
    assert runs["full"].refused["SHORT_MARKING"] == 0  # the customers' own sales pass


def test_the_market_rules_line_counts_self_trades_and_adv_refusals_from_the_runs(
    knight: KnightReport,
) -> None:
    line = market_rules_line(knight)
    runs = {r.name: r for r in knight.runs}
    for name in ("full", "no_fleet_gate:all"):
        r = runs[name]
        assert f"{r.refused['SELF_TRADE']:,} orders refused SELF_TRADE" in line, (name, line)
        assert f"{r.refused['ADV_LIMIT']:,} refused ADV_LIMIT" in line, (name, line)
    assert line.count("refused SELF_TRADE") == 2
    # the counts come from the runs, not the text: other counts, another line
    other = dataclasses.replace(knight, runs=[
        dataclasses.replace(r, refused=Counter({"SELF_TRADE": 7, "ADV_LIMIT": 1_234}))
        for r in knight.runs
    ])  # fmt: skip
    assert "7 orders refused SELF_TRADE" in market_rules_line(other)
    assert "1,234 refused ADV_LIMIT" in market_rules_line(other)
