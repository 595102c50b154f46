"""Runaways nobody scripted, against the shipped default config, through the one builder.

Property (docs/runaways.md says where each bound comes from):
  - each account's gross exposure stays under max_gross_notional x (1 + market band) +
    max_order_notional, and its loss under daily_loss_limit + max_gross_notional x band,
    for the whole run;
  - every runaway faster than 100 orders a second (per account) is halted within 2 s of
    simulated time from its first order;
  - a slower one is stopped (halted, or every risk-increasing order refused) within its
    horizon of 3,000 orders per account, or else it is still inside every bound and has traded less
    than its credit limit, which stops it before it can trade more (a slow loop that stays
    inside every limit is indistinguishable from a desk's flow: the limits bound it).
The worst case hypothesis finds is printed (pytest -s).
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import HealthCheck, given, settings, target
from hypothesis import strategies as st

from hypothesis_profiles import examples
from interlock.risk.limits import LimitsConfig
from interlock.sim.runaway import Runaway, desk_config, drive, harness

CONFIG = desk_config(150)
LIMITS: LimitsConfig = CONFIG.limits
BAND = Decimal(LIMITS.collar.market_order_band_bps) / 10_000


def bounds(account: str) -> tuple[float, float]:
    a = LIMITS.account(account)
    gross = a.max_gross_notional * (1 + BAND) + a.max_order_notional
    loss = a.daily_loss_limit + a.max_gross_notional * BAND
    return float(gross), float(loss)


runaways = st.builds(
    Runaway,
    name=st.just("generated"),
    pace=st.sampled_from([10, 30, 60, 99, 101, 150, 300, 1_000, 5_000]),
    symbols=st.sampled_from([1, 3, 20, 150]),
    sides=st.sampled_from(["alternate", "buy", "sell", "random"]),
    qty=st.sampled_from([50, 100, 500, 2_000, 5_000]),
    vary_qty=st.booleans(),
    market=st.booleans(),
    new_strategy_each_order=st.booleans(),
    accounts=st.sampled_from([("desk-7",), ("mm-1",), ("desk-7", "mm-1")]),
    seed=st.integers(0, 1_000),
)
WORST: dict[str, object] = {}


# ci: 25 runaways (5 of the 9 paces are fast, so nearly every run draws several of each
# kind); thorough: 200. docs/testing.md says what the smaller count was checked against.
@settings(
    max_examples=examples(ci=25, thorough=200),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(runaway=runaways)
def test_every_runaway_is_stopped_inside_its_bounds_and_fast_ones_halt_within_2_s(
    runaway: Runaway,
) -> None:
    fast = runaway.pace > 100
    runaway.max_orders = int(runaway.pace * 3) if fast else 3_000  # 3 s of a fast one
    runaway.max_orders *= len(runaway.accounts)
    r = drive(runaway, harness(CONFIG, seed=runaway.seed), until_stopped=not fast)
    target(r.loss_usd, label="loss")
    target(r.peak_gross_usd, label="gross")
    if r.loss_usd >= float(WORST.get("loss_usd", -1.0)):  # type: ignore[arg-type]
        WORST.update(r.row(), runaway=repr(runaway), loss_usd=r.loss_usd)
    inside_credit = True
    for account, m in r.by_account.items():
        gross_bound, loss_bound = bounds(account)
        assert m["peak_gross_usd"] <= gross_bound, (account, r.row())
        assert m["loss_usd"] <= loss_bound, (account, r.row())
        inside_credit &= m["traded_usd"] < float(LIMITS.account(account).credit_limit)
    assert r.stopped or inside_credit, f"not stopped: {r.row()}"
    if fast:
        assert r.halted_at_s is not None and r.halted_at_s <= 2.0, r.row()


def test_zz_print_the_worst_case_found() -> None:
    print("worst runaway found (by loss):", WORST)
