"""The limits model (LimitsConfig) and config loading: refused keys, named errors, account
overrides compiled to integers, and a digest that names one limits document."""

from __future__ import annotations

import functools
import os
import subprocess
import sys
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from interlock.api.config import load_config
from interlock.domain.enums import TradingSession
from interlock.errors import ConfigError, InterlockError
from interlock.risk.limits import LimitsConfig, compile_account

MICROS = 1_000_000


def error_locs(data: dict[str, Any]) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        LimitsConfig.model_validate(data)
    return [".".join(str(p) for p in e["loc"]) for e in caught.value.errors()]


@pytest.mark.parametrize(
    ("data", "where"),
    [
        ({"max_qty": 1}, "max_qty"),
        ({"defaults": {"max_qty": 1}}, "defaults.max_qty"),
        ({"accounts": {"desk-7": {"max_qty": 1}}}, "accounts.desk-7.max_qty"),
        ({"rates": {"per_symbol": {"count": 1, "window_ms": 1, "burst": 2}}},
         "rates.per_symbol.burst"),
        ({"collar": {"auction_bps": 5}}, "collar.auction_bps"),
        ({"firm": {"max_position": 5}}, "firm.max_position"),
    ],
)  # fmt: skip
def test_unknown_key_is_refused_by_its_path(data: dict[str, Any], where: str) -> None:
    assert error_locs(data) == [where]


@pytest.mark.parametrize(
    ("data", "where"),
    [
        ({"defaults": {"max_order_qty": 0}}, "defaults.max_order_qty"),
        ({"defaults": {"max_order_notional": "-1"}}, "defaults.max_order_notional"),
        ({"defaults": {"max_order_notional": "0.0000001"}}, "defaults.max_order_notional"),
        ({"defaults": {"market_order_sessions": ["lunch"]}}, "defaults.market_order_sessions.0"),
        ({"accounts": {"desk-7": {"max_position": 0}}}, "accounts.desk-7.max_position"),
        ({"accounts": {"desk-7": {"credit_limit": "-5"}}}, "accounts.desk-7.credit_limit"),
        ({"collar": {"continuous_bps": 100_001}}, "collar.continuous_bps"),
        ({"collar": {"reference_max_age_ms": 0}}, "collar.reference_max_age_ms"),
        ({"rates": {"per_instance": {"count": 0, "window_ms": 1}}}, "rates.per_instance.count"),
        ({"rates": {"per_instance": {"count": 1, "window_ms": -1}}},
         "rates.per_instance.window_ms"),
        ({"duplicate_window_ms": -1}, "duplicate_window_ms"),
        ({"firm": {"max_gross_notional": "-1"}}, "firm.max_gross_notional"),
    ],
)  # fmt: skip
def test_bad_value_is_refused_naming_its_key(data: dict[str, Any], where: str) -> None:
    assert error_locs(data) == [where]


def test_every_bad_key_is_reported_at_once() -> None:
    data = {
        "defaults": {"max_order_qty": -1, "max_position": 0},
        "collar": {"pre_open_bps": -1},
        "oops": True,
    }
    assert sorted(error_locs(data)) == [
        "collar.pre_open_bps", "defaults.max_order_qty", "defaults.max_position", "oops",
    ]  # fmt: skip


@pytest.mark.parametrize("shares", [0, -5])
def test_position_override_below_one_share_is_refused(shares: int) -> None:
    data = {
        "defaults": {"position_overrides": {"TSLA": shares}},
        "accounts": {"a": {"position_overrides": {"TSLA": shares}}},
    }
    assert error_locs(data) == [
        "defaults.position_overrides.TSLA", "accounts.a.position_overrides.TSLA",
    ]  # fmt: skip


def test_limits_are_frozen() -> None:
    cfg = LimitsConfig()
    with pytest.raises(ValidationError):
        cfg.duplicate_window_ms = 5  # type: ignore[misc]


def test_account_override_changes_only_the_keys_it_names() -> None:
    cfg = load_config().limits
    desk = cfg.account("desk-7")
    assert (desk.max_order_notional, desk.max_position, desk.daily_loss_limit) == (
        Decimal(500_000), 20_000, Decimal(250_000),
    )  # fmt: skip
    assert desk.position_overrides == {"TSLA": 5_000}
    assert desk.max_order_qty == cfg.defaults.max_order_qty == 10_000
    assert desk.credit_limit == cfg.defaults.credit_limit
    mm = cfg.account("mm-1")
    assert mm.max_gross_notional == Decimal(50_000_000)
    assert mm.market_order_sessions == {TradingSession.CONTINUOUS, TradingSession.OPENING_AUCTION}
    assert cfg.account("nobody") is cfg.defaults


def test_compiled_account_risk_is_integers_with_the_firm_restrictions_added() -> None:
    cfg = LimitsConfig.model_validate(
        {
            "firm": {"restricted_symbols": ["KCG"]},
            "defaults": {"max_order_notional": "1000000.25"},
            "accounts": {"desk-7": {"restricted_symbols": ["TSLA"], "max_position": 7,
                                    "position_overrides": {"AAPL": 3}}},
        }
    )  # fmt: skip
    risk = compile_account("desk-7", cfg)
    assert risk.max_order_notional == 1_000_000_250_000  # micros
    assert risk.credit_limit == 50_000_000 * MICROS
    assert risk.restricted == {"KCG", "TSLA"}
    assert (risk.position_limit("AAPL"), risk.position_limit("MSFT")) == (3, 7)
    assert compile_account("other", cfg).restricted == {"KCG"}


def test_digest_depends_on_the_values_not_on_how_they_were_written() -> None:
    a = LimitsConfig.model_validate({"accounts": {"a": {"max_position": 5}, "b": {}},
                                     "duplicate_window_ms": 10})  # fmt: skip
    b = LimitsConfig.model_validate({"duplicate_window_ms": 10,
                                     "accounts": {"b": {}, "a": {"max_position": 5}}})  # fmt: skip
    assert a.digest() == b.digest() and len(a.digest()) == 16
    assert LimitsConfig.model_validate_json(a.canonical_json()).digest() == a.digest()
    c = LimitsConfig.model_validate({"accounts": {"a": {"max_position": 6}, "b": {}},
                                     "duplicate_window_ms": 10})  # fmt: skip
    assert c.digest() != a.digest()
    assert load_config().limits.digest() == load_config().limits.digest()


DIGESTS = (
    "from interlock.api.config import load_config\n"
    "c = load_config()\n"
    "print(c.limits.digest(), c.digest())\n"
)
SEEDS = (0, 1, 3)  # under these hash seeds a frozenset of two strings iterates both ways


@functools.cache
def digests_under_hash_seed(seed: int) -> tuple[str, str]:
    env = {**os.environ, "PYTHONHASHSEED": str(seed)}
    out = subprocess.run([sys.executable, "-c", DIGESTS], env=env, check=True,
                         capture_output=True, text=True).stdout  # fmt: skip
    limits, config = out.split()
    return limits, config


def test_limits_digest_is_the_same_in_every_process() -> None:
    # mm-1's market_order_sessions is a frozenset: its dump order must not leak in
    assert len({digests_under_hash_seed(seed)[0] for seed in SEEDS}) == 1


def test_config_digest_attested_to_the_fleet_is_the_same_in_every_process() -> None:
    # api key accounts and strategies are frozensets too
    assert len({digests_under_hash_seed(seed)[1] for seed in SEEDS}) == 1


# -- loading a config file -------------------------------------------------------------------

BAD_TOML = """
instance_id = ""
lease_ttl_ms = 0
surprise = 1
[instruments]
AAPL = { tick_size = "0.0000001" }
[limits.defaults]
max_order_qty = -5
max_qty = 10
[limits.rates]
per_symbol = { count = 0, window_ms = 1000 }
[limits.accounts.desk-7]
credit_limit = "-1"
"""


def test_load_config_names_every_bad_key_in_one_error(tmp_path: Path) -> None:
    path = tmp_path / "interlock.toml"
    path.write_text(BAD_TOML)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    err = caught.value
    assert err.code == "CONFIG_INVALID" and isinstance(err, InterlockError)
    text = str(err)
    assert text.startswith(f"{path}: 8 invalid key(s)")
    for key in (
        "instance_id", "lease_ttl_ms", "surprise", "instruments.AAPL.tick_size",
        "limits.defaults.max_order_qty", "limits.defaults.max_qty",
        "limits.rates.per_symbol.count", "limits.accounts.desk-7.credit_limit",
    ):  # fmt: skip
        assert f"\n  {key}: " in text, key


def test_load_config_refuses_a_file_that_is_not_toml(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("instance_id = \n")
    with pytest.raises(ConfigError, match="not valid TOML") as caught:
        load_config(path)
    assert caught.value.code == "CONFIG_INVALID"


def test_load_config_reports_a_missing_file_as_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "absent.toml")


def test_packaged_default_loads_and_a_copy_on_disk_loads_the_same(tmp_path: Path) -> None:
    packaged = load_config()
    assert packaged.instance_id == "gw-1" and "AAPL" in packaged.instruments
    assert packaged.limits.defaults.max_order_qty == 10_000
    path = tmp_path / "copy.toml"
    path.write_text(resources.files("interlock").joinpath("data/default.toml").read_text())
    assert load_config(path) == packaged
