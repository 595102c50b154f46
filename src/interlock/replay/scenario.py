"""The Knight scenario of 1 August 2012 as data: times, servers, the parent book, warnings.

Everything here is scenario input, taken from the SEC order (Release 34-70694) where it
gives a figure and chosen, with the reason, where it does not (docs/replay.md):

- eight SMARS servers; the deploy misses gw-8 (¶15);
- 97 pre-open warnings from 08:01 (¶19), from pre-market RLP orders that reached gw-8;
- 212 small retail parent orders for the open (¶1, ¶21), dealt round-robin to the eight
  servers as they arrive; each stock's parents are on one side, 80 stocks of buys and 74
  of sells (¶17: the long and short stock counts), the 58 second parents split between the
  sides in proportion;
- the "fix" (¶27): the seven good servers are rolled back to the old build. The SEC gives
  no time: we put it one ninth of the way into the runaway (09:35 for 45 minutes);
- the stop at 10:15, 45 minutes after the open (¶17 "45 minutes").
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from interlock.domain.enums import Side

ET = timezone(timedelta(hours=-4))  # New York, daylight time, on 1 August 2012
SERVERS = tuple(f"gw-{i}" for i in range(1, 9))
STALE = "gw-8"
N_PARENTS = 212
N_SYMBOLS = 154
N_LONG = 80  # stocks whose parents are buys (SEC ¶17: net long in 80)
PREOPEN_WARNINGS = 97
NS = 1_000_000_000


def et(hour: int, minute: int, second: float = 0.0) -> int:
    """Nanoseconds since the epoch of a wall-clock time in New York on 1 August 2012."""
    base = datetime(2012, 8, 1, hour, minute, tzinfo=ET)
    return int(base.timestamp()) * NS + int(second * NS)


def clock_text(ns: int) -> str:
    """'09:30:00.000' for an instant of the day (New York time)."""
    t = datetime.fromtimestamp(ns / NS, tz=ET)
    return t.strftime("%H:%M:%S.") + f"{t.microsecond // 1000:03d}"


@dataclass(frozen=True, slots=True)
class Parent:
    """A customer's (parent) order, as Knight's order handling passed it to SMARS."""

    parent_id: str
    symbol: str
    side: Side
    quantity: int
    server: str  # the SMARS server it was dealt to

    @property
    def sign(self) -> int:
        return self.side.sign


@dataclass(frozen=True, slots=True)
class Scenario:
    seed: int
    minutes: int
    symbols: tuple[str, ...]
    long_symbols: frozenset[str]
    parents: tuple[Parent, ...]
    warning_times: tuple[int, ...]  # pre-market RLP orders that reached gw-8
    deploy_at: int
    open_at: int
    fix_at: int
    stop_at: int

    @property
    def duration_s(self) -> int:
        return (self.stop_at - self.open_at) // NS

    def parents_on(self, server: str) -> list[Parent]:
        return [p for p in self.parents if p.server == server]


def build_scenario(seed: int = 2012, minutes: int = 45) -> Scenario:
    """The scenario for `seed`; `minutes` shortens the runaway (tests), fix at 1/9 of it."""
    if minutes < 1:
        raise ValueError(f"the runaway lasts at least one minute, got {minutes}")
    rng = random.Random(f"knight-scenario-{seed}")
    symbols = tuple(f"K{i:03d}" for i in range(1, N_SYMBOLS + 1))
    longs = frozenset(rng.sample(symbols, N_LONG))
    # every stock gets one parent; the other 58 go to stocks drawn without replacement,
    # in proportion to the two sides (30 buys, 28 sells)
    n_extra = N_PARENTS - N_SYMBOLS
    long_extra = round(n_extra * N_LONG / N_SYMBOLS)
    extra = rng.sample(sorted(longs), long_extra) + rng.sample(
        sorted(set(symbols) - longs), n_extra - long_extra
    )
    order = list(symbols) + extra
    rng.shuffle(order)  # the order the parents reached SMARS in
    parents = []
    for n, sym in enumerate(order):
        side = Side.BUY if sym in longs else Side.SELL
        qty = 100 * rng.randint(1, 5)  # small retail orders: 100 to 500 shares
        parents.append(Parent(f"P{n + 1:03d}", sym, side, qty, SERVERS[n % len(SERVERS)]))
    first, last = et(8, 1), et(9, 29, 59)
    times = sorted([first] + [rng.randint(first, last) for _ in range(PREOPEN_WARNINGS - 1)])
    open_at = et(9, 30)
    return Scenario(
        seed=seed,
        minutes=minutes,
        symbols=symbols,
        long_symbols=longs,
        parents=tuple(parents),
        warning_times=tuple(times),
        deploy_at=et(7, 0),
        open_at=open_at,
        fix_at=open_at + (minutes * 60 // 9) * NS,
        stop_at=open_at + minutes * 60 * NS,
    )
