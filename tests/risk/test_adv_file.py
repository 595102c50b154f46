"""The ADV file's parser, staleness and precedence (risk/adv_file.py)."""

from __future__ import annotations

from datetime import date

import pytest

from interlock.domain.reject import RejectCode
from interlock.errors import ConfigError
from interlock.risk.adv_file import merged, parse_adv, stale_days

SYMBOLS = {"AAPL", "MSFT"}
GOOD = "# as_of=2025-07-31\nsymbol,adv_shares\nAAPL,200000\nMSFT, 300000\n\n"


def test_a_good_file_parses_to_sorted_figures_with_its_date_and_digest() -> None:
    f = parse_adv(GOOD, "adv.csv", SYMBOLS)
    assert f.as_of == date(2025, 7, 31)
    assert f.figures == (("AAPL", 200_000), ("MSFT", 300_000))
    assert len(f.digest) == 16 and f.digest != parse_adv(GOOD + "\n", "adv.csv", SYMBOLS).digest


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("symbol,adv_shares\nAAPL,1\n", "adv.csv:1: the first line"),
        ("# as_of=2025-13-01\nsymbol,adv_shares\n", "adv.csv:1: as_of is not"),
        ("# as_of=2025-07-31\nsym,adv\nAAPL,1\n", "adv.csv:2: the header"),
        ("# as_of=2025-07-31\nsymbol,adv_shares\nAAPL,lots\n", "adv.csv:3: expected"),
        ("# as_of=2025-07-31\nsymbol,adv_shares\nAAPL,1\nMSFT,0\n", "adv.csv:4: expected"),
        ("# as_of=2025-07-31\nsymbol,adv_shares\nAAPL,-5\n", "adv.csv:3: expected"),
        ("# as_of=2025-07-31\nsymbol,adv_shares\nAAPL,1.5\n", "adv.csv:3: expected"),
        ("# as_of=2025-07-31\nsymbol,adv_shares\nAAPL,1,2\n", "adv.csv:3: expected"),
        ("# as_of=2025-07-31\nsymbol,adv_shares\nZZZZ,10\n", "adv.csv:3: ZZZZ is not a conf"),
        ("# as_of=2025-07-31\nsymbol,adv_shares\nAAPL,1\nAAPL,2\n", "adv.csv:4: AAPL is given"),
    ],
    ids=[
        "no-as-of",
        "bad-date",
        "header",
        "text",
        "zero",
        "negative",
        "decimal",
        "extra",
        "unknown",
        "duplicate",
    ],
)
def test_a_bad_file_is_refused_config_invalid_naming_file_and_line(text: str, where: str) -> None:
    with pytest.raises(ConfigError) as bad:
        parse_adv(text, "adv.csv", SYMBOLS)
    assert str(bad.value).startswith(where)
    assert bad.value.code is RejectCode.CONFIG_INVALID


def test_staleness_counts_calendar_days_past_the_max_age() -> None:
    friday = date(2025, 8, 1)
    assert stale_days(friday, date(2025, 8, 4), 3) == 0  # Friday's file serves Monday
    assert stale_days(friday, date(2025, 8, 5), 3) == 1
    assert stale_days(friday, friday, 1) == 0


def test_the_file_overrides_the_config_symbol_by_symbol_and_extends_it() -> None:
    assert merged({"AAPL": 1, "MSFT": 2}, [("AAPL", 10), ("IBM", 30)]) == {
        "AAPL": 10,
        "MSFT": 2,
        "IBM": 30,
    }
