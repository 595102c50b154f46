"""Listener addresses and ports in the config: every bad value is refused at load, with an
error naming the key, before anything listens."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from interlock.api.config import parse_config
from interlock.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
SESSION = {"comp_id": "DESK1", "username": "desk-7-algo", "account": "desk-7", "strategy": "vwap"}


def _with(**sections: dict[str, object]) -> dict[str, object]:
    data = tomllib.loads((ROOT / "src" / "interlock" / "data" / "default.toml").read_text())
    for name, values in sections.items():
        data[name] = {**data.get(name, {}), **values}  # type: ignore[dict-item]
    return data


@pytest.mark.parametrize(
    ("sections", "key"),
    [
        ({"fix": {"port": 70_000, "sessions": [SESSION]}}, "fix.port"),
        ({"fix": {"port": -1, "sessions": [SESSION]}}, "fix.port"),
        ({"fix": {"port": 9878, "host": "localhost", "sessions": [SESSION]}}, "fix.host"),
        ({"fix": {"port": 9878, "host": "::1", "sessions": [SESSION]}}, "fix.host"),
        ({"fix": {"port": 9878, "heartbeat_s": 0, "sessions": [SESSION]}}, "fix.heartbeat_s"),
        ({"rest": {"port": 65_536}}, "rest.port"),
        ({"admin": {"port": -5}}, "admin.port"),
        ({"rest": {"host": "0.0.0.0.0"}}, "rest.host"),
        ({"rest": {"tls_cert": "/etc/rest.pem"}}, "rest"),  # no tls_key
        ({"admin": {"tls_key": "/etc/admin-key.pem"}}, "admin"),  # no tls_cert
        ({"admin": {"tls_ca": "/etc/ca.pem"}}, "admin"),  # client certs, no server cert
    ],
)
def test_bad_listener_setting_is_refused_naming_its_key(
    sections: dict[str, dict[str, object]], key: str
) -> None:
    with pytest.raises(ConfigError) as refused:
        parse_config(_with(**sections))
    assert f"  {key}: " in str(refused.value), str(refused.value)


def test_fix_acceptor_defaults_to_loopback() -> None:
    config = parse_config(_with(fix={"port": 9878, "sessions": [SESSION]}))
    assert config.fix is not None and config.fix.host == "127.0.0.1"


def _admin_token(role: str | None) -> dict[str, object]:
    token: dict[str, object] = {"principal": "viewer", "token_sha256": "ab" * 32}
    return token if role is None else {**token, "role": role}


def test_an_admin_token_is_an_operator_by_default_a_reader_or_risk_and_nothing_else() -> None:
    default = parse_config(_with(admin={"tokens": [_admin_token(None)]}))
    reader = parse_config(_with(admin={"tokens": [_admin_token("reader")]}))
    risk = parse_config(_with(admin={"tokens": [_admin_token("risk")]}))
    tokens = (*default.admin.tokens, *reader.admin.tokens, *risk.admin.tokens)
    assert [t.role.value for t in tokens] == ["operator", "reader", "risk"]
    assert default.digest() != reader.digest()  # the role is part of what members attest
    assert risk.digest() not in (default.digest(), reader.digest())
    for role in ("trader",):
        with pytest.raises(ConfigError) as refused:
            parse_config(_with(admin={"tokens": [_admin_token(role)]}))
        assert "admin.tokens.0.role" in str(refused.value)
