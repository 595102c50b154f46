"""The protected runs: which defences each one keeps, and the desk's limits.

`full` keeps everything. With the fleet gate off (the stale server routes, as Knight's
did, and every router reads Knight's reused flag bit), each other defence runs alone and
then all together. "Alone" means the other runaway defences are switched off by name
(`risk.engine.CHECK_NAMES`) and, where the gateway acts by itself on a fill (the loss
halt), by setting that limit out of reach. The per-order sanity checks (restricted list,
market orders, size and notional, reference freshness, collar) stay on in every run: each
child passes them. The reject-storm breaker (observe/) stays on beside every defence that
refuses orders: it only ever sees refusals, so it turns a refusing defence into a halt and
never acts alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from interlock.api.config import ServeConfig, load_config, parse_config
from interlock.gateway.config import hash_key
from interlock.gateway.gateway import GATE_CHECK
from interlock.replay.market import MarketParams

ACCOUNT = "knight-rlp"
STRATEGY = "smars"
API_KEY = "knight-smars-replay-key"
OUT_OF_REACH = Decimal(10) ** 15  # a loss limit no run reaches: the loss halt is off

RUNAWAY_CHECKS = frozenset({
    "duplicate_order", "rate_limit", "parent_overfill", "position_limit", "gross_exposure",
    "credit_limit", "loss_limit", "short_marking", "locate",
})  # fmt: skip
BASELINE_TITLE = "Without Interlock"
DEFENCES = {
    "overfill_guard": frozenset({"parent_overfill"}),
    "rate_envelope": frozenset({"rate_limit"}),
    "position_limits": frozenset({"position_limit", "gross_exposure", "credit_limit"}),
    "loss_limit": frozenset({"loss_limit"}),
    "runaway_detector": frozenset[str](),
}


@dataclass(frozen=True, slots=True)
class RunSpec:
    name: str
    fleet_gate: bool  # the instance gate and Interlock's flag rules and release gate
    disabled: frozenset[str]  # checks switched off by name
    loss_halt: bool  # the gateway's own halt on a fill past the daily loss limit
    detectors: bool  # runaway detectors (repeated child, order-to-fill)
    breaker: bool  # the reject-storm breaker
    title: str  # the plain name a risk officer reads in the report (the name is the id)


DEFENCE_TITLES = {
    "overfill_guard": "parent overfill guard",
    "rate_envelope": "rate limits",
    "position_limits": "position limits",
    "loss_limit": "daily loss limit",
    "runaway_detector": "runaway detectors",
}


def _alone(defence: str) -> RunSpec:
    keep = DEFENCES[defence]
    return RunSpec(f"no_fleet_gate:{defence}", False, (RUNAWAY_CHECKS - keep) | {GATE_CHECK},
                   defence == "loss_limit", defence == "runaway_detector",
                   defence != "runaway_detector",
                   f"Fleet gate off: {DEFENCE_TITLES[defence]} alone")  # fmt: skip


DETECTORS = frozenset({"repeated_child", "order_to_fill", "account_flow", "traded_notional"})
BREAKER = frozenset({"reject_storm"})


def disabled_for(spec: RunSpec) -> frozenset[str]:
    """The checks and monitors (by name) a run switches off inside every gateway."""
    return (
        spec.disabled
        | (frozenset() if spec.detectors else DETECTORS)
        | (frozenset() if spec.breaker else BREAKER)
    )


RUNS: tuple[RunSpec, ...] = (
    RunSpec("full", True, frozenset(), True, True, True,
            "With Interlock: old build refused at deploy"),
    *(_alone(d) for d in DEFENCES),
    RunSpec("no_fleet_gate:all", False, frozenset({GATE_CHECK}), True, True, True,
            "Fleet gate off: every other defence together"),
)  # fmt: skip
RUN_NAMES = tuple(r.name for r in RUNS)
RUN_TITLES = {r.name: r.title for r in RUNS}


def replay_config(
    symbols: tuple[str, ...], loss_halt: bool = True, adv: Mapping[str, int] | None = None
) -> ServeConfig:
    """The router desk's config: the packaged defaults, with the replay's 154 stocks (each
    with its ADV from the replay's market, `adv`; without one, the market's median), the
    SMARS routers' key, and limits for an agency-like retail routing account
    (docs/replay.md says why each)."""
    data = load_config().model_dump(mode="json")
    data["instruments"] = {s: {"tick_size": "0.01"} for s in symbols}
    median = int(MarketParams().adv_median)
    data["limits"]["adv"]["shares"] = {s: (adv or {}).get(s, median) for s in symbols}
    data["limits"]["short_sale"] = {"easy_to_borrow": [], "agency_accounts": [ACCOUNT]}
    data["api_keys"] = [{"principal": "smars-router", "key_sha256": hash_key(API_KEY),
                         "accounts": [ACCOUNT], "strategies": [STRATEGY]}]  # fmt: skip
    limits = data["limits"]
    limits["firm"]["restricted_symbols"] = []
    limits["accounts"] = {ACCOUNT: {}}  # its table: the defaults below apply to it
    limits["defaults"].update({
        "max_order_qty": 5_000,
        "max_order_notional": "250000",
        "max_position": 5_000,
        "max_gross_notional": "10000000",
        "credit_limit": "50000000",
        "daily_loss_limit": "250000" if loss_halt else str(OUT_OF_REACH),
    })  # fmt: skip
    limits["rates"].update({
        "per_instance": {"count": 200, "window_ms": 1_000},
        "per_strategy": {"count": 200, "window_ms": 1_000},
        "per_symbol": {"count": 5, "window_ms": 1_000},
    })  # fmt: skip
    return parse_config(data, "knight replay config")
