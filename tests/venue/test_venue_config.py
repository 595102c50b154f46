"""`[venue]` and `[reference]`: a FIX venue's session is typed and checked at load, and a
config that would judge real orders against the simulator's prices is refused."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from interlock.api.config import load_config, parse_config
from interlock.errors import ConfigError
from interlock.gateway.config import hash_key, read_toml
from interlock.sim.harness import DESK_KEY

PUBLISHER = hash_key("feed-token")
FIX = {"port": 9878, "sender_comp_id": "ILK1", "target_comp_id": "VENUE"}


def _with(**sections: Any) -> dict[str, Any]:
    data = copy.deepcopy(read_toml()[0])
    data.update(sections)
    return data


def _refusal(data: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as refused:
        parse_config(data, "t")
    assert refused.value.code.value == "CONFIG_INVALID"
    return str(refused.value)


def test_the_packaged_file_routes_to_the_simulated_venue_with_its_prices() -> None:
    cfg = load_config()
    assert cfg.venue.kind == "simulated" and cfg.venue.fix is None
    assert cfg.reference.source == "simulated"


def test_a_fix_venue_with_venue_market_data_loads_with_session_defaults() -> None:
    cfg = parse_config(_with(venue={"kind": "fix", "fix": FIX}, reference={"source": "venue"}))
    assert cfg.venue.fix is not None
    assert (cfg.venue.fix.host, cfg.venue.fix.begin_string) == ("127.0.0.1", "FIX.4.4")
    assert cfg.venue.fix.store_dir is None  # beside the journal


def test_a_fix_venue_changes_the_config_digest() -> None:
    fix = parse_config(_with(venue={"kind": "fix", "fix": FIX}, reference={"source": "venue"}))
    assert fix.digest() != load_config().digest()


def test_a_fix_venue_judged_by_simulated_prices_is_refused_naming_the_key() -> None:
    text = _refusal(_with(venue={"kind": "fix", "fix": FIX}))
    assert "reference.source" in text and "simulated venue's prices" in text


def test_kind_fix_without_its_session_table_is_refused() -> None:
    assert "[venue.fix]" in _refusal(_with(venue={"kind": "fix"}, reference={"source": "venue"}))


def test_a_session_table_with_the_simulated_venue_is_refused() -> None:
    assert "ignored" in _refusal(_with(venue={"kind": "simulated", "fix": FIX}))


def test_every_bad_session_value_is_reported_at_once_by_its_path() -> None:
    bad = {**FIX, "port": 0, "sender_comp_id": "has space", "heartbeat_s": "30",
           "host": "venue.example", "begin_string": "FIX.4.2", "colour": "red"}  # fmt: skip
    text = _refusal(_with(venue={"kind": "fix", "fix": bad}, reference={"source": "venue"}))
    for key in ("port", "sender_comp_id", "heartbeat_s", "host", "begin_string", "colour"):
        assert f"venue.fix.{key}" in text, text


def test_source_feed_needs_its_listener_table() -> None:
    assert "[reference.feed]" in _refusal(_with(reference={"source": "feed"}))


def test_a_publisher_token_that_is_also_an_api_key_is_refused() -> None:
    feed = {"port": 0, "publishers": [hash_key(DESK_KEY)]}
    text = _refusal(_with(reference={"source": "feed", "feed": feed}))
    assert "reference.feed.publishers.0" in text


def test_a_publisher_digest_that_is_not_sha256_hex_is_refused() -> None:
    feed = {"port": 0, "publishers": ["feed-token"]}
    assert "not a sha256 hex digest" in _refusal(_with(reference={"source": "feed", "feed": feed}))


def test_a_feed_with_a_good_publisher_loads() -> None:
    feed = {"port": 0, "publishers": [PUBLISHER]}
    cfg = parse_config(_with(reference={"source": "feed", "feed": feed}))
    assert cfg.reference.feed is not None and cfg.reference.feed.publishers == [PUBLISHER]


DROP_COPY = {"port": 9879, "sender_comp_id": "ILK1-DC", "target_comp_id": "VENUE-DC"}


def test_a_drop_copy_session_loads_and_leaves_older_files_digests_alone() -> None:
    plain = parse_config(_with(venue={"kind": "fix", "fix": FIX}, reference={"source": "venue"}))
    cfg = parse_config(_with(venue={"kind": "fix", "fix": FIX, "drop_copy": DROP_COPY},
                             reference={"source": "venue"}))  # fmt: skip
    assert cfg.venue.drop_copy is not None and cfg.venue.drop_copy.host == "127.0.0.1"
    assert plain.venue.drop_copy is None
    assert "drop_copy" not in plain.venue.model_dump()  # absent: the digest as before it
    assert cfg.digest() != plain.digest()


@pytest.mark.parametrize(
    ("venue", "says"),
    [
        ({"kind": "simulated", "drop_copy": DROP_COPY}, "needs a FIX venue"),
        ({"kind": "fix", "fix": FIX, "drop_copy": {**DROP_COPY, "sender_comp_id": "ILK1",
                                                   "target_comp_id": "VENUE"}},
         "another session"),
        ({"kind": "fix", "fix": FIX, "drop_copy": {**DROP_COPY, "orders": True}}, "orders"),
        ({"kind": "fix", "fix": FIX, "drop_copy": {**DROP_COPY, "host": "localhost"}},
         "not an IPv4 address"),
        ({"kind": "fix", "fix": FIX, "drop_copy": {"port": 0, "sender_comp_id": "a b"}},
         "drop_copy.port"),
    ],
)  # fmt: skip
def test_a_bad_drop_copy_table_is_CONFIG_INVALID_naming_the_key(
    venue: dict[str, Any], says: str
) -> None:
    text = _refusal(_with(venue=venue, reference={"source": "venue"}))
    assert says in text and "drop_copy" in text, text
