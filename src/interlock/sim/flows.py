"""Normal desk flows that must never trip a monitor or a rate envelope on the shipped config.

The other side of the runaway property: a defence that halts honest flow gets switched
off. Each flow is what the desks of the packaged config would really send:

    vwap           desk-7 works 50 symbols over ten minutes, a passive child per symbol
                   every 20-40 s
    market_maker   mm-1 quotes both sides of 20 symbols and re-quotes each every second
                   (cancel, new), for two minutes
    auction_basket desk-7 sends a 200-name basket for the open at 09:15 (pre-open), released
                   at 40 orders a second
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field

from interlock.domain.enums import Side, TimeInForce
from interlock.sim.runaway import Flow, Order


@dataclass
class Vwap(Flow):
    name: str = "vwap_50_symbols"
    symbols: int = 50
    minutes: float = 10
    seed: int = 3
    step_s: float = 0.1
    _rng: random.Random = field(init=False, repr=False)
    _due: list[float] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._due = [self._rng.uniform(0, 10) for _ in range(self.symbols)]

    def ticks(self) -> int:
        return int(self.minutes * 60 / self.step_s)

    def tick(self, n: int, now_s: float) -> Iterator[Order]:
        for i in range(self.symbols):
            if self._due[i] <= now_s:
                self._due[i] = now_s + self._rng.uniform(20, 40)
                yield Order("desk-7", "vwap", f"S{i:03d}", Side.BUY, 100,
                            market=False, offset_ticks=-1, tif=TimeInForce.DAY,
                            cancel_after_s=30)  # fmt: skip


@dataclass
class MarketMaker(Flow):
    name: str = "market_maker_20_symbols"
    symbols: int = 20
    minutes: float = 2
    step_s: float = 0.05
    seed: int = 5
    _rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def ticks(self) -> int:
        return int(self.minutes * 60 / self.step_s)

    def tick(self, n: int, now_s: float) -> Iterator[Order]:
        per_second = round(1 / self.step_s)
        i = n % per_second  # spread the re-quotes over the second: symbol i at step i
        if i < self.symbols:
            size = 100 * self._rng.randint(1, 2)
            for side in (Side.BUY, Side.SELL_SHORT):  # its offers sell what it does not hold;
                # at the touch, two ticks apart: a quote one tick inside (the mid on both
                # sides) would be locked against itself and trade with itself: SELF_TRADE
                yield Order("mm-1", "mm", f"S{100 + i:03d}", side, size, market=False,
                            offset_ticks=-2, tif=TimeInForce.DAY, cancel_after_s=1.0)  # fmt: skip


@dataclass
class AuctionBasket(Flow):
    name: str = "opening_basket_200_names"
    names: int = 200
    per_second: int = 40
    step_s: float = 0.025
    start_offset_s: float = -45 * 60.0  # 09:15 New York: the pre-open session

    def ticks(self) -> int:
        return int(self.names / self.per_second / self.step_s) + 40

    def tick(self, n: int, now_s: float) -> Iterator[Order]:
        if n < self.names:
            side = Side.BUY if n % 3 else Side.SELL_SHORT  # names the desk does not hold
            yield Order("desk-7", "vwap", f"S{n:03d}", side, 100, market=False, offset_ticks=-2,
                        tif=TimeInForce.DAY)  # fmt: skip


def legit_flows() -> list[Flow]:
    return [Vwap(), MarketMaker(), AuctionBasket()]
