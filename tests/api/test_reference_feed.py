"""The mark feed: a price publisher pushes marks to its own loopback listener, they become
the reference prices (stamped on receipt), and only a publisher token may push; a batch
with one bad mark moves nothing."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from interlock.api.config import load_config
from interlock.api.listener import Listener
from interlock.api.reference_feed import create_feed_app
from interlock.gateway.config import hash_key

TOKEN = "feed-publisher-token"


@pytest.fixture
def feed() -> Iterator[tuple[str, list[tuple[str, int]]]]:
    got: list[tuple[str, int]] = []
    app = create_feed_app(lambda s, t: got.append((s, t)), load_config().instrument_map(),
                          [hash_key(TOKEN)])  # fmt: skip
    listener = Listener(app, "127.0.0.1", 0, "feed").start()
    try:
        yield listener.url, got
    finally:
        listener.stop()


def _push(url: str, marks: list[dict[str, str]], token: str = TOKEN) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"}
    return httpx.post(f"{url}/marks", json={"marks": marks}, headers=headers, timeout=5)


def test_a_publisher_batch_becomes_marks_in_ticks(feed: tuple[str, list[tuple[str, int]]]) -> None:
    url, got = feed
    r = _push(url, [{"symbol": "AAPL", "price": "187.52"}, {"symbol": "MSFT", "price": "410"}])
    assert r.status_code == 200, r.text
    assert r.json() == {"taken": 2}
    assert got == [("AAPL", 18_752), ("MSFT", 41_000)]


def test_a_trading_key_or_no_token_cannot_push(feed: tuple[str, list[tuple[str, int]]]) -> None:
    url, got = feed
    assert _push(url, [{"symbol": "AAPL", "price": "1"}], "demo-desk-key").status_code == 401
    r = httpx.post(f"{url}/marks", json={"marks": [{"symbol": "AAPL", "price": "1"}]}, timeout=5)
    assert r.status_code == 401 and r.json()["code"] == "UNAUTHENTICATED"
    assert got == []


def test_one_unknown_symbol_refuses_the_whole_batch(
    feed: tuple[str, list[tuple[str, int]]],
) -> None:
    url, got = feed
    r = _push(url, [{"symbol": "AAPL", "price": "187.52"}, {"symbol": "NOPE", "price": "1"}])
    assert r.status_code == 422 and r.json()["code"] == "UNKNOWN_SYMBOL", r.text
    assert got == []


def test_a_price_off_the_grid_or_not_positive_is_refused(
    feed: tuple[str, list[tuple[str, int]]],
) -> None:
    url, got = feed
    for price in ("187.525", "0", "-1", "abc"):
        r = _push(url, [{"symbol": "AAPL", "price": price}])
        assert r.status_code == 422 and r.json()["code"] == "SCHEMA_INVALID", (price, r.text)
    assert got == []
