"""The replay's market: 154 stocks with reference prices, spreads, volumes and price impact.

One model, two ways to drive it: the aggregated baseline steps every stock one second at a
time with numpy; the protected runs' venue fills one child order at a time with the scalar
methods. Both use the same formulas (a test checks they agree):

- the touch: mid plus or minus half the quoted spread;
- temporary impact (Almgren, Thum, Hauptmann & Li 2005, "Direct estimation of equity
  market impact"): a taker trading at `rate` shares a second pays, beyond the touch, a
  fraction J = eta * sigma * (rate / ADV per second)^beta of the price;
- permanent impact (same paper): each share Knight's children take moves the mid by
  kappa = gamma * sigma * (shares outstanding / ADV)^(1/4) / ADV of the reference price;
- after the stop, a fraction `kept` of the permanent impact stays (the rest reverts once the
  market knows the flow was an error), and the end position is sold to a dealer at that
  price less the cost of unwinding it over `unwind_days` (permanent/2 + temporary).

Every parameter is documented, with its source or reasoning, in docs/replay.md.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import numpy.typing as npt

from interlock.replay.scenario import Scenario

Array = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
SECONDS_PER_DAY = 23_400.0  # 6.5 trading hours


@dataclass(frozen=True, slots=True)
class MarketParams:
    price_median: float = 12.5  # USD, median reference price of the 154 stocks
    price_sdlog: float = 0.7  # log-normal spread of reference prices
    adv_median: float = 1_700_000.0  # shares a day, median average daily volume
    adv_sdlog: float = 0.8
    sigma_low: float = 0.015  # daily volatility, drawn uniformly between low and high
    sigma_high: float = 0.035
    turnover_low: float = 100.0  # shares outstanding / ADV, drawn log-uniformly
    turnover_high: float = 1_000.0
    spread_bps_floor: float = 3.0  # quoted spread = floor + slope * sqrt(1M / ADV), in bps,
    spread_bps_slope: float = 12.0  # never under one cent
    gamma: float = 0.314  # permanent impact coefficient (Almgren et al. 2005)
    eta: float = 0.142  # temporary impact coefficient (Almgren et al. 2005)
    beta: float = 0.6  # temporary impact exponent (Almgren et al. 2005)
    kept: float = 0.5  # share of the permanent impact left after the error is known
    unwind_days: float = 1.0  # the dealer prices the end position as one day's unwinding
    child_qty: int = 100  # shares per Power Peg child order: one round lot
    child_interval_ms: int = 100  # Power Peg sends a child per parent every cycle
    fill_prob: float = 0.8  # a marketable child fills in full, else misses (quote moved)


def _quantiles(n: int, median: float, sdlog: float, rng: random.Random) -> list[float]:
    """n log-normal draws, stratified: the n quantiles, in a seeded order."""
    nd = NormalDist()
    values = [median * float(np.exp(sdlog * nd.inv_cdf((i + 0.5) / n))) for i in range(n)]
    rng.shuffle(values)
    return values


class KnightMarket:
    """Per-stock parameters (numpy arrays, in `symbols` order) and the impact formulas."""

    def __init__(self, scenario: Scenario, params: MarketParams | None = None) -> None:
        p = self.params = params or MarketParams()
        rng = random.Random(f"knight-market-{scenario.seed}")
        self.symbols = scenario.symbols
        self.index = {s: i for i, s in enumerate(self.symbols)}
        n = len(self.symbols)
        longs = [s for s in self.symbols if s in scenario.long_symbols]
        shorts = [s for s in self.symbols if s not in scenario.long_symbols]
        price = np.zeros(n)
        adv = np.zeros(n)
        for group in (longs, shorts):  # stratified within each side, so both look alike
            prices = _quantiles(len(group), p.price_median, p.price_sdlog, rng)
            volumes = _quantiles(len(group), p.adv_median, p.adv_sdlog, rng)
            for s, px, v in zip(group, prices, volumes, strict=True):
                price[self.index[s]] = round(px, 2)
                adv[self.index[s]] = round(v, -2)
        self.p0: Array = np.maximum(price, 1.0)
        self.adv: Array = adv
        self.sigma: Array = np.array([rng.uniform(p.sigma_low, p.sigma_high) for _ in range(n)])
        lo, hi = np.log(p.turnover_low), np.log(p.turnover_high)
        turnover = np.exp(np.array([rng.uniform(lo, hi) for _ in range(n)]))
        bps = p.spread_bps_floor + p.spread_bps_slope * np.sqrt(1e6 / self.adv)
        spread = np.maximum(0.01, np.round(self.p0 * bps / 1e4, 2))
        self.half_spread: Array = spread / 2
        self.kappa: Array = p.gamma * self.sigma * turnover**0.25 / self.adv
        self.sign = np.array([1.0 if s in scenario.long_symbols else -1.0 for s in self.symbols])

    def adv_shares(self) -> dict[str, int]:
        """Each stock's average daily volume, whole shares: the ADV_LIMIT's reference data."""
        return {s: int(self.adv[i]) for s, i in self.index.items()}

    # -- vectorised (all stocks at once) ------------------------------------------------

    def mids(self, q: Array) -> Array:
        """Mid prices with Knight's signed cumulative executed shares `q`."""
        return np.maximum(self.p0 * (1.0 + self.kappa * q), 0.01)

    def temporary(self, rate: Array) -> Array:
        """Temporary impact, a fraction of price, for a taker at `rate` shares a second."""
        p = self.params
        return p.eta * self.sigma * (np.abs(rate) * SECONDS_PER_DAY / self.adv) ** p.beta

    def take_prices(self, mid: Array, side: Array, rate: Array) -> Array:
        """What a marketable child pays (buy) or gets (sell): the touch plus impact, on the
        cent grid, the far side rounded against the taker."""
        raw = mid + side * (self.half_spread + self.p0 * self.temporary(rate))
        return np.where(side > 0, np.ceil(raw * 100 - 1e-9), np.floor(raw * 100 + 1e-9)) / 100

    def liquidation_values(self, position: Array, q: Array) -> Array:
        """What the end `position` fetches once the run is over, given Knight's cumulative
        executed shares `q`: the post-event mid less the dealer's cost of unwinding it."""
        p = self.params
        post = self.p0 * (1.0 + p.kept * self.kappa * q)
        size = np.abs(position)
        cost = (
            self.kappa * size / 2 + p.eta * self.sigma * (size / self.adv / p.unwind_days) ** p.beta
        )
        return position * np.maximum(post - np.sign(position) * self.p0 * cost, 0.0)

    # -- scalar (one child at a time) -----------------------------------------------------

    def mid(self, i: int, q: float) -> float:
        return max(float(self.p0[i]) * (1.0 + float(self.kappa[i]) * q), 0.01)

    def take_price(self, i: int, mid: float, side: int, rate: float) -> float:
        p = self.params
        x = abs(rate) * SECONDS_PER_DAY / float(self.adv[i])
        temp = p.eta * float(self.sigma[i]) * x**p.beta
        raw = mid + side * (float(self.half_spread[i]) + float(self.p0[i]) * temp)
        cents = np.ceil(raw * 100 - 1e-9) if side > 0 else np.floor(raw * 100 + 1e-9)
        return float(cents) / 100
