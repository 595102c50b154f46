"""Instruments and the conversion between edge prices (Decimal) and integer ticks."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, DecimalException

from interlock.domain.money import to_micros

_CACHE_MAX = 65_536
_MAX_DIGITS = 18  # a price beyond 10**18 or below 10**-18 is garbage, not a price
_TICK_CACHES: dict[Decimal, dict[Decimal, int | None]] = {}  # one per tick size, shared


@dataclass(frozen=True, slots=True)
class Instrument:
    """A tradable symbol. Prices are counted in ticks and quantities in units of one share.

    `tick_micros` is the money value of one tick on one share, so a notional is
    `qty * price_ticks * tick_micros` with no Decimal on the order path.
    """

    symbol: str
    tick_size: Decimal
    lot_size: int = 1
    currency: str = "USD"
    tick_micros: int = field(init=False)
    _ticks: dict[Decimal, int | None] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.tick_size <= 0:
            raise ValueError(f"{self.symbol}: tick size must be positive, got {self.tick_size}")
        if self.lot_size <= 0:
            raise ValueError(f"{self.symbol}: lot size must be positive, got {self.lot_size}")
        object.__setattr__(self, "tick_micros", to_micros(self.tick_size))
        object.__setattr__(self, "_ticks", _TICK_CACHES.setdefault(self.tick_size, {}))
        if self.tick_micros == 0:
            raise ValueError(f"{self.symbol}: tick size {self.tick_size} is below 0.000001")

    def to_ticks(self, price: Decimal) -> int | None:
        """Integer ticks for `price`, or None when it is off the tick grid or not finite.

        Prices repeat, so answers are remembered in a bounded cache shared by every
        instrument with the same tick size: a hit costs one dict lookup instead of a
        Decimal division.
        """
        cache = self._ticks
        try:
            t = cache.get(price, -1)
        except TypeError:  # unhashable: a signalling NaN, or not a Decimal at all
            return None
        if t != -1:
            return t
        t = self._convert(price)
        if len(cache) >= _CACHE_MAX:
            cache.clear()
        if price.is_finite():
            cache[price] = t
        return t

    def _convert(self, price: Decimal) -> int | None:
        if not price.is_finite() or abs(price.adjusted()) > _MAX_DIGITS:
            return None  # NaN, infinity, or a magnitude no price has (1E+999999)
        try:
            q = price / self.tick_size
            t = int(q)
        except (DecimalException, ValueError, OverflowError, TypeError):
            return None
        return t if t == q else None

    def to_price(self, ticks: int) -> Decimal:
        return ticks * self.tick_size

    def notional_micros(self, qty: int, ticks: int) -> int:
        return qty * ticks * self.tick_micros
