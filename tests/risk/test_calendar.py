"""The trading calendar: sessions by local time, holidays, half days, DST, and a cache that
always agrees with a slow zoneinfo reference."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from interlock.api.config import load_config, parse_config
from interlock.domain.enums import TradingSession as T
from interlock.errors import ConfigError
from interlock.replay.runs import replay_config
from interlock.risk.calendar import TradingCalendar
from interlock.sim.harness import NEW_YORK, new_york_ns

CFG = load_config().calendar
CAL = CFG.compile()  # one instance for every example: its cached span moves at random


def utc(*args: int) -> int:
    return int(datetime(*args, tzinfo=UTC).timestamp()) * 1_000_000_000


@pytest.mark.parametrize(
    ("at", "session"),
    [
        ("06:59:59", None),
        ("07:00", T.PRE_OPEN),
        ("09:27:59", T.PRE_OPEN),
        ("09:28", T.OPENING_AUCTION),
        ("09:29:59", T.OPENING_AUCTION),
        ("09:30", T.CONTINUOUS),
        ("15:59:59", T.CONTINUOUS),
        ("16:00", None),
        ("23:59:59", None),
    ],
)
def test_an_ordinary_day_has_each_session_between_its_boundaries(at: str, session: T) -> None:
    assert CAL.session_at(new_york_ns("2025-08-01", at)) is session


def test_a_nanosecond_before_a_boundary_is_still_the_earlier_session() -> None:
    assert CAL.session_at(new_york_ns("2025-08-01", "09:30") - 1) is T.OPENING_AUCTION
    assert CAL.session_at(new_york_ns("2025-08-01", "16:00") - 1) is T.CONTINUOUS


@pytest.mark.parametrize("day", ["2025-08-02", "2025-08-03", "2025-07-04", "2025-12-25",
                                 "2026-04-03", "2027-12-24"])  # fmt: skip
def test_weekends_and_holidays_are_closed_all_day(day: str) -> None:
    assert all(CAL.session_at(new_york_ns(day, t)) is None for t in ("07:30", "09:29", "12:00"))


def test_a_half_day_closes_at_13_00() -> None:
    assert CAL.session_at(new_york_ns("2025-11-28", "12:59:59")) is T.CONTINUOUS
    assert CAL.session_at(new_york_ns("2025-11-28", "13:00")) is None
    assert "a half day, closed at 13:00" in CAL.closed_reason(new_york_ns("2025-11-28", "14:00"))
    assert CAL.session_at(new_york_ns("2025-11-26", "15:00")) is T.CONTINUOUS  # the day before


@pytest.mark.parametrize(
    ("before", "after"),  # (day, UTC hour of 09:30 New York) either side of a DST change
    [(("2025-03-07", 14), ("2025-03-10", 13)), (("2025-10-31", 13), ("2025-11-03", 14))],
)
def test_the_open_follows_new_york_across_daylight_saving_changes(
    before: tuple[str, int], after: tuple[str, int]
) -> None:
    for day, hour in (before, after):
        y, m, d = (int(p) for p in day.split("-"))
        assert CAL.session_at(utc(y, m, d, hour, 30)) is T.CONTINUOUS
        assert CAL.session_at(utc(y, m, d, hour, 29)) is T.OPENING_AUCTION
        assert CAL.session_at(utc(y, m, d, hour + 7, 0)) is None  # 16:00 local


def test_the_knight_day_is_a_normal_day_in_the_replay_config() -> None:
    cal = replay_config(("KCG",)).calendar.compile()
    assert cal.session_at(utc(2012, 8, 1, 13, 30)) is T.CONTINUOUS  # 09:30 New York (EDT)
    assert cal.session_at(utc(2012, 8, 1, 12, 0)) is T.PRE_OPEN
    assert cal.session_at(utc(2012, 8, 1, 13, 29)) is T.OPENING_AUCTION


def test_the_24_7_calendar_is_continuous_at_any_instant() -> None:
    cal = TradingCalendar.around_the_clock()
    for ns in (0, utc(2025, 8, 2, 3, 0), utc(2025, 12, 25, 12), 2**62):
        assert cal.session_at(ns) is T.CONTINUOUS
    assert parse_config({**_default(), "calendar": {"always_open": True}}).calendar.always_open


def _reference(ns: int) -> T | None:
    """The slow way: zoneinfo on every call, no cache, the rules read straight from config."""
    local = datetime.fromtimestamp(ns // 1_000_000_000, tz=NEW_YORK)
    day, t = local.date(), local.time()
    if day.weekday() >= 5 or day in CFG.holidays:
        return None
    close = CFG.half_days.get(day, CFG.close)
    if t < CFG.pre_open or t >= close:
        return None
    if t < CFG.opening_auction:
        return T.PRE_OPEN
    if t < CFG.continuous:
        return T.OPENING_AUCTION
    return T.CONTINUOUS


NS_2025, NS_2028 = utc(2025, 1, 1), utc(2028, 1, 1)


HOUR = 3_600 * 1_000_000_000
SPECIAL = sorted(CFG.holidays | set(CFG.half_days))


@settings(max_examples=1_000, deadline=None, derandomize=True)
@given(
    base=st.integers(NS_2025, NS_2028 - 1)
    | st.sampled_from(SPECIAL).map(lambda d: new_york_ns(d.isoformat(), "12:59:59")),
    steps=st.lists(st.integers(-30 * HOUR, 30 * HOUR) | st.integers(-HOUR, HOUR), max_size=30),
)
def test_session_at_agrees_with_a_slow_zoneinfo_reference(base: int, steps: list[int]) -> None:
    """Instants near each other, in any order: the cached span must never answer for an
    instant outside it (the first of each run lands anywhere in 2025-2027)."""
    for ns in [base] + [base + s for s in steps]:
        assert CAL.session_at(ns) is _reference(ns), CAL.local_text(ns)


def _default() -> dict[str, Any]:
    return load_config().model_dump(mode="json")


@pytest.mark.parametrize(
    ("calendar", "says"),
    [
        ({"time_zone": "America/Nowhere"}, "unknown IANA time zone"),
        ({"opening_auction": "09:31:00"}, "session times must increase"),
        ({"weekdays": []}, "weekdays is empty"),
        ({"holidays": ["2025-12-24"]}, "both a holiday and a half day"),
        ({"half_days": {"2025-08-02": "13:00:00"}}, "not a trading weekday"),
        ({"half_days": {"2025-08-01": "09:00:00"}}, "close 09:00:00 not after"),
        ({"weekdays": ["monday"]}, "calendar.weekdays"),
    ],
)
def test_a_bad_calendar_is_refused_at_load_naming_the_problem(
    calendar: dict[str, Any], says: str
) -> None:
    data = _default()
    data["calendar"] = {**data["calendar"], **calendar}
    with pytest.raises(ConfigError, match=says):
        parse_config(data)
