"""The server's trading calendar: which session an instant is in, or None when closed.

The session an order is judged in (its collar, whether a market order may go) is the
server's, never the caller's label: Knight's collar skipped auction orders, and a label
that buys the auction's wider collar is the same hole. Each local day's boundaries are
computed once with zoneinfo (so daylight-saving changes are the zone database's, not
ours) and kept in UTC nanoseconds; `session_at` remembers the span it last answered
for, so on the order path it is one tuple read and two integer comparisons, and only
the first order after a boundary (a few times a day) pays for a lookup.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from interlock.domain.enums import TradingSession

_NS = 1_000_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_FOREVER = (-(2**63), 2**63 - 1)
_MAX_CACHED_DAYS = 4_096
Span = tuple[int, int, TradingSession | None]


@dataclass(frozen=True, slots=True)
class SessionTimes:
    """Local start of each session and the close; strictly increasing."""

    pre_open: time
    opening_auction: time
    continuous: time
    close: time


@dataclass(frozen=True, slots=True)
class Day:
    """One local day's boundaries in UTC ns; `sessions` is None on a non-trading day."""

    start: int  # local midnight
    end: int  # the next local midnight
    sessions: tuple[int, int, int, int] | None  # pre_open, auction, continuous, close


def utc_ns(day: date, at: time, zone: ZoneInfo) -> int:
    """UTC nanoseconds of local `at` on `day` in `zone` (exact: no float on the way)."""
    local = datetime.combine(day, at, tzinfo=zone)
    return (local.astimezone(UTC) - _EPOCH) // timedelta(microseconds=1) * 1_000


class TradingCalendar:
    """Sessions of one venue's days. Build once (config load); ask `session_at(now)`."""

    def __init__(
        self,
        zone: ZoneInfo,
        times: SessionTimes,
        weekdays: frozenset[int],
        holidays: frozenset[date] = frozenset(),
        half_days: Mapping[date, time] | None = None,
        *,
        always_open: bool = False,
    ) -> None:
        """`weekdays`: 0 = Monday. `half_days`: date -> early close. `always_open`: the
        continuous session at every instant (a 24/7 venue or a test rig on the wall clock)."""
        self.zone = zone
        self.times = times
        self.weekdays = weekdays
        self.holidays = holidays
        self.half_days = dict(half_days or {})
        self.always_open = always_open
        self._days: dict[date, Day] = {}
        self._span: Span = (*_FOREVER, TradingSession.CONTINUOUS) if always_open else (0, 0, None)

    @classmethod
    def around_the_clock(cls) -> TradingCalendar:
        """Continuous trading at every instant of every day."""
        t = SessionTimes(time(0), time(0), time(0), time(0))
        return cls(ZoneInfo("UTC"), t, frozenset(range(7)), always_open=True)

    def session_at(self, now: int) -> TradingSession | None:
        """The session at `now` (UTC ns), or None when the market is closed."""
        span = self._span
        if span[0] <= now < span[1]:
            return span[2]
        return self._lookup(now)

    def _lookup(self, now: int) -> TradingSession | None:
        d = self.day(self.local_date(now))
        if d.sessions is None:
            span: Span = (d.start, d.end, None)
        else:
            pre, auction, cont, close = d.sessions
            if now < pre:
                span = (d.start, pre, None)
            elif now < auction:
                span = (pre, auction, TradingSession.PRE_OPEN)
            elif now < cont:
                span = (auction, cont, TradingSession.OPENING_AUCTION)
            elif now < close:
                span = (cont, close, TradingSession.CONTINUOUS)
            else:
                span = (close, d.end, None)
        self._span = span  # one tuple: a reader on another thread sees all of it or none
        return span[2]

    def local_date(self, now: int) -> date:
        return datetime.fromtimestamp(now // _NS, tz=self.zone).date()

    def day(self, day: date) -> Day:
        """The boundaries of local `day`, computed once."""
        cached = self._days.get(day)
        if cached is not None:
            return cached
        if len(self._days) >= _MAX_CACHED_DAYS:
            self._days.clear()
        z, t = self.zone, self.times
        start, end = utc_ns(day, time(0), z), utc_ns(day + timedelta(days=1), time(0), z)
        sessions = None
        if self.is_trading_day(day):
            close = self.half_days.get(day, t.close)
            sessions = (
                utc_ns(day, t.pre_open, z),
                utc_ns(day, t.opening_auction, z),
                utc_ns(day, t.continuous, z),
                utc_ns(day, close, z),
            )
        d = self._days[day] = Day(start, end, sessions)
        return d

    def is_trading_day(self, day: date) -> bool:
        return day.weekday() in self.weekdays and day not in self.holidays

    def closed_reason(self, now: int) -> str:
        """Why the market is closed at `now`, in words (off the order path)."""
        local = datetime.fromtimestamp(now // _NS, tz=self.zone)
        day, shown = local.date(), f"{local:%a %Y-%m-%d %H:%M:%S} {self.zone.key}"
        if day in self.holidays:
            why = "a holiday"
        elif day.weekday() not in self.weekdays:
            why = "not a trading weekday"
        elif local.time() < self.times.pre_open:
            why = f"before pre-open at {self.times.pre_open:%H:%M}"
        elif day in self.half_days:
            why = f"a half day, closed at {self.half_days[day]:%H:%M}"
        else:
            why = f"after the close at {self.times.close:%H:%M}"
        return f"{shown}: {why}"

    def local_text(self, now: int) -> str:
        local = datetime.fromtimestamp(now // _NS, tz=self.zone)
        return f"{local:%Y-%m-%d %H:%M:%S} {self.zone.key}"
