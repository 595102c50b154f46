"""The report: the baseline beside the SEC's figures, and every protected run's outcome.

`report.json` holds exactly the keys of issue 5; everything else (bands, notes, the
readiness verdict, curves) is for the table, the HTML page and the plots. Money is rounded
to the cent and times to the millisecond, so the same seed gives the same file; only
`runtime_s` varies between runs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from interlock.replay.baseline import BaselineResult
from interlock.replay.protected import RunResult


@dataclass(frozen=True, slots=True)
class Band:
    """A figure of KNIGHT.md: its target as text and the closed band the baseline must hit."""

    key: str
    label: str
    target: str
    low: float
    high: float

    def holds(self, value: float) -> bool:
        return self.low <= value <= self.high


BANDS = (
    Band("servers", "servers", "8", 8, 8),
    Band("stale_servers", "stale servers after the deploy", "1", 1, 1),
    Band("servers_running_power_peg_after_fix", "running Power Peg after the fix", "8", 8, 8),
    Band("parent_orders", "parent orders that trigger it", "212", 212, 212),
    Band("preopen_warnings", "pre-open warnings (08:01-09:30)", "97", 97, 97),
    Band("runaway_minutes", "runaway duration, minutes", "45 ± 5", 40, 50),
    Band("executions", "executions", "4.0 M (4.0-4.5 M)", 4.0e6, 4.5e6),
    Band("symbols", "stocks", "154", 154, 154),
    Band("long_symbols", "stocks net long", "80", 80, 80),
    Band("short_symbols", "stocks net short", "74", 74, 74),
    Band("shares", "shares", "397 M (397-420 M)", 397e6, 420e6),
    Band("net_long_usd", "net long, USD", "3.5 B ± 10%", 3.15e9, 3.85e9),
    Band("net_short_usd", "net short, USD", "3.15 B ± 10%", 2.835e9, 3.465e9),
    Band("loss_usd", "loss, USD", "460 M (400-520 M)", 400e6, 520e6),
)
STANDALONE_MAX_LOSS = 1_000_000.0
ALL_MAX_LOSS = 10_000.0
ALL_MAX_HALT_AFTER_RUNAWAY_S = 2.0


def _money(x: float) -> float:
    return round(x, 2) + 0.0  # + 0.0: never "-0.0"


def baseline_json(b: BaselineResult) -> dict[str, Any]:
    return {
        "servers": b.servers,
        "stale_servers": b.stale_servers,
        "servers_running_power_peg_after_fix": b.servers_running_power_peg_after_fix,
        "parent_orders": b.parent_orders,
        "preopen_warnings": b.preopen_warnings,
        "runaway_minutes": round(b.runaway_minutes, 3),
        "executions": b.executions,
        "symbols": b.symbols,
        "long_symbols": b.long_symbols,
        "short_symbols": b.short_symbols,
        "shares": b.shares,
        "net_long_usd": _money(b.net_long_usd),
        "net_short_usd": _money(b.net_short_usd),
        "loss_usd": _money(b.loss_usd),
    }


def run_json(r: RunResult) -> dict[str, Any]:
    return {
        "stale_orders_routed": r.stale_orders_routed,
        "executions": r.executions,
        "shares": r.shares,
        "peak_gross_usd": _money(r.peak_gross_usd),
        "loss_usd": _money(r.loss_usd),
        "halt_after_s": None if r.halt_after_s is None else round(r.halt_after_s, 3),
        "first_reject_code": r.first_reject_code,
    }


def target_of(r: RunResult) -> tuple[str, bool]:
    """The issue's target for a protected run, as text, and whether the run meets it."""
    if r.name == "full":
        return "stale server routes 0", r.stale_orders_routed == 0
    if r.name == "no_fleet_gate:all":
        after = r.halt_after_runaway_s
        ok = (
            r.loss_usd <= ALL_MAX_LOSS
            and after is not None
            and (after <= ALL_MAX_HALT_AFTER_RUNAWAY_S)
        )
        return "loss <= $10k, halt <= 2 s after the first runaway child", ok
    return "loss <= $1M", r.loss_usd <= STANDALONE_MAX_LOSS


@dataclass(frozen=True)
class KnightReport:
    seed: int
    minutes: int
    runtime_s: float
    baseline: BaselineResult
    runs: tuple[RunResult, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "runtime_s": round(self.runtime_s, 3),
            "baseline": baseline_json(self.baseline),
            "protected": {r.name: run_json(r) for r in self.runs},
        }

    def band_marks(self) -> list[tuple[Band, float, bool]]:
        data = baseline_json(self.baseline)
        return [(b, float(data[b.key]), b.holds(float(data[b.key]))) for b in BANDS]

    @property
    def in_band(self) -> bool:
        return all(ok for _, _, ok in self.band_marks())

    @property
    def targets_met(self) -> bool:
        return all(target_of(r)[1] for r in self.runs)

    @property
    def passed(self) -> bool:
        """Every protected run met its target, and a full-length baseline is in every band
        (a shortened runaway cannot reach the day's magnitudes)."""
        return self.targets_met and (self.minutes != 45 or self.in_band)

    def write_json(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), indent=2) + "\n")
