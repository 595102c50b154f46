"""Order-to-trade counters over the trading day, per account and per account and strategy.

Orders are the accepted new orders plus the cancel requests (the messages that go on to
the venue); trades are fills. A strategy name no API key declares for the account counts
in the account's shared `*` tally (as the rate windows do), so a new name per order opens
no fresh count; the account's own tally binds across all its strategies anyway. The day is
the trading calendar's local day: the first event past its end starts a new day. The
counters are fed by `Book` from journaled events only, so a restart mid-day rebuilds them.
"""

from __future__ import annotations

from interlock.risk.calendar import TradingCalendar
from interlock.risk.limits import OrderToTradeLimits


class Tally:
    __slots__ = ("orders", "trades")

    def __init__(self) -> None:
        self.orders = 0
        self.trades = 0


class DayTallies:
    """The day's tallies; `start`/`end` bound the local day they belong to (UTC ns)."""

    __slots__ = ("accounts", "calendar", "end", "max_ratio", "min_orders", "start", "strategies")

    def __init__(self, calendar: TradingCalendar, limits: OrderToTradeLimits) -> None:
        self.calendar = calendar
        self.max_ratio = limits.max_ratio  # the limits as plain ints: read on every order
        self.min_orders = limits.min_orders
        self.start = self.end = 0
        self.accounts: dict[str, Tally] = {}
        self.strategies: dict[str, dict[str, Tally]] = {}  # account -> strategy key -> tally

    def today(self, now: int) -> bool:
        return self.start <= now < self.end

    def _roll(self, now: int) -> None:
        """A new day: every tally starts again at zero."""
        day = self.calendar.day(self.calendar.local_date(now))
        self.start, self.end = day.start, day.end
        self.accounts.clear()
        self.strategies.clear()

    def _tallies(self, account: str, strategy_key: str, now: int) -> tuple[Tally, Tally]:
        if not (self.start <= now < self.end):
            self._roll(now)
        a = self.accounts.get(account)
        if a is None:
            a = self.accounts[account] = Tally()
            self.strategies[account] = {}
        by_key = self.strategies[account]
        s = by_key.get(strategy_key)
        if s is None:
            s = by_key[strategy_key] = Tally()
        return a, s

    def order(self, account: str, strategy_key: str, now: int) -> None:
        if self.start <= now < self.end:  # the common case, inline: both tallies exist
            a = self.accounts.get(account)
            if a is not None:
                s = self.strategies[account].get(strategy_key)
                if s is not None:
                    a.orders += 1
                    s.orders += 1
                    return
        a, s = self._tallies(account, strategy_key, now)
        a.orders += 1
        s.orders += 1

    def trade(self, account: str, strategy_key: str, now: int) -> None:
        a, s = self._tallies(account, strategy_key, now)
        a.trades += 1
        s.trades += 1
