"""The transports' config is api/'s: the gateway's model knows no `[rest]`, `[admin]` or
`[fix]`, yet the one file keeps its format and digest, and every loader of a whole file
gets the full model, so a file with listener sections loads everywhere."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from interlock.api.admin import create_admin_app
from interlock.api.config import ServeConfig, load_config, parse_config, serve_config
from interlock.api.listener import Listener
from interlock.api.listeners import AdminConfig, RestConfig
from interlock.api.rest import create_app
from interlock.errors import ConfigError
from interlock.gateway.config import GatewayConfig, parse_as, read_toml
from interlock.gateway.gateway import Gateway
from interlock.replay.runs import replay_config
from interlock.sim.harness import DESK_KEY, around_the_clock, build, config_with, high_rate
from interlock.sim.runaway import desk_config

DEFAULT_DIGEST = "78ef70b51e47ffe9"
"""`load_config().digest()` of the packaged file. It was "27277e17da68dd40" on main at
e95e50e, before the transports' config moved, and the split did not change it (the
attestation carries `fleet_digest()`, the shared settings), nor did the `[journal]` keys
added later while at their defaults. Issue 16 changed the packaged limits on purpose (the
ADV figures and easy-to-borrow list a default-on check needs, `[limits.adv]` and
`[limits.short_sale]`): the new digest is this one."""
RISK_KEY = "demo-risk-key"  # a [[rest.keys]] entry of the packaged file
ADMIN_TOKEN = "demo-admin-token"  # its [[admin.tokens]] entry
SESSION = {"comp_id": "DESK1", "username": "desk-7-algo", "account": "desk-7", "strategy": "vwap"}


def _default_data() -> dict[str, Any]:
    return copy.deepcopy(read_toml()[0])


def test_the_packaged_file_keeps_the_config_digest_it_had_before_the_split() -> None:
    assert load_config().digest() == DEFAULT_DIGEST


def test_the_gateway_model_refuses_the_transport_sections_by_their_keys() -> None:
    with pytest.raises(ConfigError) as refused:
        parse_as(GatewayConfig, _default_data(), "t")
    lines = str(refused.value).splitlines()
    assert lines[0] == "t: 2 invalid key(s)"
    assert sorted(line.split(":")[0].strip() for line in lines[1:]) == ["admin", "rest"]


def test_bad_keys_of_the_gateway_and_of_the_transports_are_reported_at_once() -> None:
    data = _default_data()
    data["limits"]["max_positon"] = 5  # a typo in the gateway's part
    data["rest"]["port"] = 70_000
    data["admin"]["colour"] = "red"  # an unknown key in a transport's part
    data["fix"] = {"port": 9878, "sessions": [{**SESSION, "heartbeat": 5}]}
    with pytest.raises(ConfigError) as refused:
        parse_config(data, "t")
    where = [line.split(":")[0].strip() for line in str(refused.value).splitlines()[1:]]
    assert sorted(where) == [
        "admin.colour",
        "fix.sessions.0.heartbeat",
        "limits.max_positon",
        "rest.port",
    ]


LOADERS: dict[str, Callable[[], GatewayConfig]] = {
    "load_config": load_config,
    "config_with": lambda: config_with(duplicate_window_ms=0),
    "around_the_clock": around_the_clock,
    "high_rate": high_rate,
    "desk_config": lambda: desk_config(3),
    "replay_config": lambda: replay_config(("AAPL",)),
    "harness build": lambda: build().gateway.config,
}


@pytest.mark.parametrize("loader", LOADERS.values(), ids=LOADERS.keys())
def test_every_loader_of_a_whole_file_keeps_its_listener_sections(
    loader: Callable[[], GatewayConfig],
) -> None:
    config = loader()
    assert isinstance(config, ServeConfig)
    packaged = load_config()
    assert (config.rest, config.admin) == (packaged.rest, packaged.admin)
    assert config.rest.keys and config.admin.tokens


def test_a_file_with_a_fix_section_reaches_the_gateway_whole() -> None:
    data = _default_data()
    data["fix"] = {"port": 0, "sessions": [SESSION]}
    gateway = build(around_the_clock(parse_config(data))).gateway
    fix = serve_config(gateway.config).fix
    assert fix is not None and fix.sessions[0].comp_id == "DESK1"


def test_a_whole_config_is_its_own_serve_config() -> None:
    config = load_config()
    assert serve_config(config) is config


def test_a_gateway_config_without_transports_serves_with_the_default_ones() -> None:
    data = {k: v for k, v in _default_data().items() if k not in ("rest", "admin", "fix")}
    plain = parse_as(GatewayConfig, data)
    served = serve_config(plain)
    assert (served.rest, served.admin, served.fix) == (RestConfig(), AdminConfig(), None)
    assert served.venue.kind == "simulated" and served.reference.source == "simulated"
    served_only = {"rest", "admin", "fix", "venue", "reference", "control_plane"}
    assert served.model_dump(exclude=served_only) == plain.model_dump()


def _serving(gateway: Gateway) -> Iterator[tuple[httpx.Client, httpx.Client]]:
    rest = Listener(create_app(gateway), "127.0.0.1", 0, "test-rest").start()
    admin = Listener(create_admin_app(gateway), "127.0.0.1", 0, "test-admin").start()
    try:
        with (
            httpx.Client(base_url=rest.url, timeout=10) as r,
            httpx.Client(base_url=admin.url, timeout=10) as a,
        ):
            yield r, a
    finally:
        rest.stop()
        admin.stop()
        gateway.close()


def _status(client: httpx.Client, path: str, key: str) -> int:
    return client.get(path, headers={"Authorization": f"Bearer {key}"}).status_code


def test_the_listeners_read_the_keys_of_a_whole_config() -> None:
    for rest, admin in _serving(build(load_config()).gateway):
        assert _status(rest, "/limits", DESK_KEY) == 200
        assert _status(rest, "/limits", RISK_KEY) == 200
        assert _status(admin, "/halts", ADMIN_TOKEN) == 200


def test_a_gateway_on_a_plain_gateway_config_serves_traders_and_no_other_key() -> None:
    data = {k: v for k, v in _default_data().items() if k not in ("rest", "admin", "fix")}
    for rest, admin in _serving(build(parse_as(GatewayConfig, data)).gateway):
        assert _status(rest, "/limits", DESK_KEY) == 200
        assert _status(rest, "/limits", RISK_KEY) == 401
        assert _status(admin, "/halts", ADMIN_TOKEN) == 401
