"""The day's ADV file (`limits.adv.file`): parsed whole or refused whole.

The format, one figure a line, after a first comment line that dates it:

    # as_of=2026-12-01
    symbol,adv_shares
    AAPL,52000000

A file is refused (ConfigError, code CONFIG_INVALID, naming the file and the line) when a
row does not parse, an ADV is not a positive integer, a symbol is not a configured
instrument or comes twice, or the as_of line is missing. It is stale when its as_of is
more than `max_age_days` calendar days before today (3 by default: Friday's file still
serves Monday). Figures in the file override `limits.adv.shares` symbol by symbol; a
symbol only in the config keeps its config figure (`merged`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date

from interlock.errors import ConfigError

_AS_OF = "# as_of="
_HEADER = "symbol,adv_shares"


@dataclass(frozen=True, slots=True)
class AdvFile:
    """One parsed file: its date, its sha256 (first 16 hex) and its figures, sorted."""

    as_of: date
    digest: str
    figures: tuple[tuple[str, int], ...]


def parse_adv(text: str, source: str, symbols: Collection[str]) -> AdvFile:
    """`text` (the file named `source`) as figures for `symbols`, or one ConfigError."""
    lines = text.splitlines()
    if not lines or not lines[0].startswith(_AS_OF):
        raise ConfigError(f"{source}:1: the first line must be '{_AS_OF}YYYY-MM-DD'")
    try:
        as_of = date.fromisoformat(lines[0][len(_AS_OF) :].strip())
    except ValueError:
        raise ConfigError(f"{source}:1: as_of is not a YYYY-MM-DD date: {lines[0]!r}") from None
    if len(lines) < 2 or lines[1].replace(" ", "") != _HEADER:
        raise ConfigError(f"{source}:2: the header must be '{_HEADER}'")
    figures: dict[str, int] = {}
    for n, line in enumerate(lines[2:], start=3):
        if not line.strip():
            continue
        symbol, _, shares = (part.strip() for part in line.partition(","))
        if not symbol or "," in shares or not shares.isdigit() or int(shares) <= 0:
            raise ConfigError(
                f"{source}:{n}: expected 'symbol,adv_shares' with a positive whole number "
                f"of shares, got {line!r}"
            )
        if symbol not in symbols:
            raise ConfigError(f"{source}:{n}: {symbol} is not a configured instrument")
        if symbol in figures:
            raise ConfigError(f"{source}:{n}: {symbol} is given twice")
        figures[symbol] = int(shares)
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    return AdvFile(as_of, digest, tuple(sorted(figures.items())))


def stale_days(as_of: date, today: date, max_age_days: int) -> int:
    """How many days past `max_age_days` the figures dated `as_of` are (0: fresh)."""
    return max(0, (today - as_of).days - max_age_days)


def merged(config: Mapping[str, int], figures: Collection[tuple[str, int]]) -> dict[str, int]:
    """The ADV in force per symbol: the file's figure, else the config's."""
    out = dict(config)
    out.update(figures)
    return out
