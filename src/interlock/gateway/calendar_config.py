"""The `[calendar]` config section: the venue's time zone, session times, days and holidays.

Why in config and validated here: the session an order is judged in comes from this
calendar, never from the caller, so a wrong zone or out-of-order times would misjudge
every order. Every problem is reported at load, by key. `always_open = true` is the
documented 24/7 calendar (continuous at every instant): for venues that never close and
for test rigs that run on the wall clock at any hour.
"""

from __future__ import annotations

from datetime import date, time
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from interlock.risk.calendar import SessionTimes, TradingCalendar

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class CalendarConfig(BaseModel):
    """The trading calendar: orders get their session from it; outside it, MARKET_CLOSED.

    The model's defaults are NYSE's hours with no holidays; the packaged default config
    adds NYSE's holidays and half days for 2025-2027.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    always_open: bool = Field(
        False, description="continuous session at every instant; the fields below are ignored"
    )
    time_zone: str = Field(
        "America/New_York", description="IANA time zone the session times are local to"
    )
    pre_open: time = Field(time(7, 0), description="local start of the pre-open session")
    opening_auction: time = Field(
        time(9, 28), description="local start of the opening auction (end of pre-open)"
    )
    continuous: time = Field(time(9, 30), description="local start of continuous trading")
    close: time = Field(time(16, 0), description="local close; the market is closed after it")
    weekdays: frozenset[Weekday] = Field(
        frozenset(WEEKDAYS[:5]), description="trading weekdays: mon, tue, ... sun"
    )
    holidays: frozenset[date] = Field(frozenset(), description="full-day closures")
    half_days: dict[date, time] = Field(
        default_factory=dict, description="date -> early local close (e.g. 13:00)"
    )

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA time zone {v!r}") from None
        return v

    @field_validator("pre_open", "opening_auction", "continuous", "close")
    @classmethod
    def _naive(cls, v: time) -> time:
        if v.tzinfo is not None:
            raise ValueError("give a local time without an offset: the zone is time_zone")
        return v

    @model_validator(mode="after")
    def _ordered(self) -> CalendarConfig:
        if self.always_open:
            return self
        problems = []
        if not self.pre_open < self.opening_auction < self.continuous < self.close:
            problems.append(
                "session times must increase: pre_open < opening_auction < continuous < close, "
                f"got {self.pre_open}, {self.opening_auction}, {self.continuous}, {self.close}"
            )
        if not self.weekdays:
            problems.append("weekdays is empty: the market would never open")
        for day, close in sorted(self.half_days.items()):
            if not self.continuous < close <= self.close:
                problems.append(f"half day {day}: close {close} not after {self.continuous}")
            if day in self.holidays:
                problems.append(f"{day} is both a holiday and a half day")
            if WEEKDAYS[day.weekday()] not in self.weekdays:
                problems.append(f"half day {day} is not a trading weekday")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def compile(self) -> TradingCalendar:
        if self.always_open:
            return TradingCalendar.around_the_clock()
        times = SessionTimes(self.pre_open, self.opening_auction, self.continuous, self.close)
        return TradingCalendar(
            ZoneInfo(self.time_zone),
            times,
            frozenset(WEEKDAYS.index(d) for d in self.weekdays),
            self.holidays,
            self.half_days,
        )
