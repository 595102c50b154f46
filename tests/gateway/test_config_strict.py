"""Config that refuses what it should: strict types, collars above 0, and names that resolve
(accounts, instruments), every problem reported at once by its dotted key, also by the CLI."""

from __future__ import annotations

import copy
import os
import re
import subprocess
import sys
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from interlock.api.config import load_config, parse_config
from interlock.cli import app
from interlock.errors import ConfigError
from interlock.gateway.config import GatewayConfig

DEFAULT: dict[str, Any] = load_config().model_dump(mode="json")
DEFAULT_TOML = resources.files("interlock").joinpath("data/default.toml").read_text()


def config(**edits: Any) -> dict[str, Any]:
    """The packaged default as data, with keys set by their slash-separated path."""
    data = copy.deepcopy(DEFAULT)
    for dotted, value in edits.items():
        *parents, last = dotted.split("/")
        node = data
        for p in parents:
            node = node[int(p)] if isinstance(node, list) else node.setdefault(p, {})
        node[last] = value
    return data


def refused(data: dict[str, Any]) -> list[str]:
    """The dotted keys named by the ConfigError for `data`."""
    with pytest.raises(ConfigError) as err:
        parse_config(data, "t")
    lines = str(err.value).splitlines()
    count = int(re.match(r"t: (\d+) invalid key", lines[0]).group(1))  # type: ignore[union-attr]
    assert count == len(lines) - 1
    return [line.strip() for line in lines[1:]]


def test_the_packaged_default_still_loads() -> None:
    assert isinstance(parse_config(copy.deepcopy(DEFAULT)), GatewayConfig)


INT_KEYS = [
    "lease_ttl_ms",
    "instruments/AAPL/lot_size",
    "limits/duplicate_window_ms",
    "limits/defaults/max_order_qty",
    "limits/defaults/max_position",
    "limits/defaults/position_overrides/AAPL",
    "limits/accounts/desk-7/max_position",
    "limits/accounts/desk-7/max_order_qty",
    "limits/collar/continuous_bps",
    "limits/collar/market_order_band_bps",
    "limits/collar/reference_max_age_ms",
    "limits/rates/per_symbol/count",
    "limits/rates/per_symbol/window_ms",
    "fleet/quorum",
    "fleet/halt_confirm_ms",
]


@pytest.mark.parametrize("key", INT_KEYS)
@pytest.mark.parametrize("value", [True, "500", 500.0])
def test_an_integer_given_as_bool_string_or_float_is_refused_by_its_key(
    key: str, value: object
) -> None:
    problems = refused(config(**{key: value}))
    assert len(problems) == 1
    assert problems[0].startswith(key.replace("/", ".") + ": "), problems


MONEY_KEYS = [
    "limits/firm/max_gross_notional",
    "limits/defaults/max_order_notional",
    "limits/defaults/daily_loss_limit",
    "limits/accounts/desk-7/max_order_notional",
    "limits/accounts/mm-1/max_gross_notional",
]


@pytest.mark.parametrize("key", MONEY_KEYS)
@pytest.mark.parametrize("value", [True, False, 500000.0, 0.1])
def test_money_given_as_bool_or_float_is_refused_by_its_key(key: str, value: object) -> None:
    problems = refused(config(**{key: value}))
    assert len(problems) == 1
    assert problems[0].startswith(key.replace("/", ".") + ": "), problems


@pytest.mark.parametrize("value", ["500000.25", 500000])
def test_money_as_a_decimal_string_or_an_integer_still_loads(value: object) -> None:
    cfg = parse_config(config(**{"limits/defaults/max_order_notional": value}))
    assert str(cfg.limits.defaults.max_order_notional) == str(value)


@pytest.mark.parametrize("key", ["pre_open_bps", "opening_auction_bps", "continuous_bps"])
def test_a_collar_of_0_bps_is_refused(key: str) -> None:
    assert refused(config(**{f"limits/collar/{key}": 0}))[0].startswith(f"limits.collar.{key}: ")


def test_an_api_key_naming_an_undefined_account_is_refused() -> None:
    problems = refused(config(**{"api_keys/0/accounts": ["desk-7", "desk-8"]}))
    assert problems == [
        "api_keys.0.accounts.desk-8: unknown account (no [limits.accounts.desk-8] table)"
    ]


def test_an_account_table_no_api_key_trades_is_refused() -> None:
    problems = refused(config(**{"limits/accounts/desk-77": {"max_position": 5}}))
    assert problems == [
        "limits.accounts.desk-77: no API key trades this account, so its limits never apply"
    ]


@pytest.mark.parametrize(
    "key",
    [
        "limits/firm/restricted_symbols",
        "limits/defaults/restricted_symbols",
        "limits/accounts/desk-7/restricted_symbols",
        "limits/accounts/mm-1/restricted_symbols",
    ],
)
def test_a_restricted_symbol_that_is_no_instrument_is_refused(key: str) -> None:
    problems = refused(config(**{key: ["KCG", "TSLQ"]}))
    assert problems == [f"{key.replace('/', '.')}.TSLQ: unknown instrument"]


@pytest.mark.parametrize(
    "key", ["limits/defaults/position_overrides", "limits/accounts/desk-7/position_overrides"]
)
def test_a_position_override_that_is_no_instrument_is_refused(key: str) -> None:
    problems = refused(config(**{key: {"TSLA": 5000, "TSLQ": 5000}}))
    assert problems == [f"{key.replace('/', '.')}.TSLQ: unknown instrument"]


def test_a_fleet_budget_and_a_fix_session_must_name_defined_accounts_and_symbols() -> None:
    budgets = [{"account": "desk-8", "symbol": "AAPX"}, {"account": "desk-7", "symbol": "AAPL"}]
    session = {"comp_id": "D7", "username": "desk-7-alg", "account": "desk-9", "strategy": "x"}
    data = config(**{"fleet/budgets": budgets, "fix": {"port": 9876, "sessions": [session]}})
    assert refused(data) == [
        "fix.sessions.0.account: unknown account desk-9",
        "fix.sessions.0.username: no API key has principal desk-7-alg, so it can never log on",
        "fleet.budgets.0.account: unknown account desk-8",
        "fleet.budgets.0.symbol: unknown instrument AAPX",
    ]


def test_every_cross_check_problem_is_reported_at_once_each_by_its_key() -> None:
    data = config(
        **{
            "api_keys/1/accounts": ["mm-2"],
            "limits/firm/restricted_symbols": ["KGC"],
            "limits/accounts/desk-7/position_overrides": {"TSLQ": 5000},
            "limits/accounts/desk-7/restricted_symbols": ["APPL"],
            "admin/tokens/0/token_sha256": DEFAULT["api_keys"][0]["key_sha256"],
        }
    )
    assert refused(data) == [
        "admin.tokens.0.token_sha256: an admin token may not also be an API key",
        "api_keys.1.accounts.mm-2: unknown account (no [limits.accounts.mm-2] table)",
        "limits.accounts.mm-1: no API key trades this account, so its limits never apply",
        "limits.firm.restricted_symbols.KGC: unknown instrument",
        "limits.accounts.desk-7.restricted_symbols.APPL: unknown instrument",
        "limits.accounts.desk-7.position_overrides.TSLQ: unknown instrument",
    ]


BAD_TOML = (
    DEFAULT_TOML.replace(
        "position_overrides = { TSLA = 5000 }", "position_overrides = { TSLQ = 5000 }"
    )
    .replace('restricted_symbols = ["KCG"]', 'restricted_symbols = ["KGC"]')
    .replace("max_position = 20000", "max_position = true")
    .replace('accounts = ["mm-1"]', 'accounts = ["mm-1", "mm-2"]')
)
BAD_KEYS = [
    "limits.accounts.desk-7.max_position",  # a type error: reported by itself first
]
NAME_KEYS = [
    "api_keys.1.accounts.mm-2",
    "limits.firm.restricted_symbols.KGC",
    "limits.accounts.desk-7.position_overrides.TSLQ",
]


def test_bad_toml_fixture_changed_what_it_meant_to() -> None:
    assert BAD_TOML.count("TSLQ") == BAD_TOML.count("KGC") == BAD_TOML.count("mm-2") == 1


def _run(command: str, path: Path) -> tuple[int, str]:
    """`interlock config check PATH` in process; `serve` as a real process with a deadline,
    so a config it wrongly accepts fails the test instead of serving forever."""
    if command == "check":
        result = CliRunner().invoke(app, ["config", "check", str(path)], terminal_width=300)
        return result.exit_code, result.output
    exe = Path(sys.executable).with_name("interlock")
    env = {**os.environ, "COLUMNS": "300"}
    try:
        done = subprocess.run(
            [str(exe), "serve", "--config", str(path)],
            capture_output=True, text=True, timeout=30, env=env,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        return -1, "serve did not refuse the config within 30 s"
    return done.returncode, done.stdout + done.stderr


@pytest.mark.parametrize("command", ["check", "serve"])
def test_config_check_and_serve_refuse_a_config_naming_every_bad_key(
    command: str, tmp_path: Path
) -> None:
    names_only = tmp_path / "names.toml"
    names_only.write_text(BAD_TOML.replace("max_position = true", "max_position = 20000"))
    typed = tmp_path / "typed.toml"
    typed.write_text(BAD_TOML)
    for path, keys in ((names_only, NAME_KEYS), (typed, BAD_KEYS)):
        code, output = _run(command, path)
        assert code == 1, output
        for key in keys:
            assert f"{key}:" in output, output


@pytest.mark.parametrize(
    "key",
    [
        "rest/port", "admin/port", "rest/ack_timeout_ms",
        "limits/defaults/max_orders_per_second", "monitors/account_flow/max_orders",
        "monitors/reject_storm/share", "limits/loss_halt_allows_reducing",
    ],
)  # fmt: skip
def test_listener_monitor_and_envelope_keys_refuse_a_string_or_a_wrong_kind(key: str) -> None:
    value: object = "1" if key.endswith("allows_reducing") else True
    problems = refused(config(**{key: value}))
    assert any(p.startswith(key.replace("/", ".") + ":") for p in problems), problems
