"""Money inside Interlock is an integer count of micro-units of the account currency.

Decimals exist only at the edges (config files, transports, reports). A micro-unit keeps
every tick size down to 0.000001 exact, and Python integers never overflow.
"""

from __future__ import annotations

from decimal import Decimal

MICROS_PER_UNIT = 1_000_000
_MICRO = Decimal(MICROS_PER_UNIT)


def to_micros(amount: Decimal | int | str) -> int:
    """Convert an edge amount to micros; refuses amounts finer than one micro-unit."""
    value = Decimal(amount) * _MICRO
    integral = value.to_integral_value()
    if value != integral:
        raise ValueError(f"amount {amount} is finer than 0.000001")
    return int(integral)


def from_micros(micros: int) -> Decimal:
    return Decimal(micros) / _MICRO


def fmt_money(micros: int, currency: str = "USD") -> str:
    """`1,250,000 USD` or `1,250,000.5 USD`: whole units when exact, else trimmed decimals."""
    units, rem = divmod(abs(micros), MICROS_PER_UNIT)
    sign = "-" if micros < 0 else ""
    if rem == 0:
        return f"{sign}{units:,} {currency}"
    frac = f"{rem:06d}".rstrip("0")
    return f"{sign}{units:,}.{frac} {currency}"
