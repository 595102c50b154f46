"""A really running stack for the transport tests: a started gateway on a real clock (with
the 24/7 calendar: tests run at any hour) and a SQLite journal, its REST and admin apps
each served by uvicorn on 127.0.0.1, port 0."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from interlock.api.admin import create_admin_app
from interlock.api.listener import Listener
from interlock.api.rest import create_app
from interlock.gateway.config import GatewayConfig
from interlock.journal.base import Journal
from interlock.journal.sqlite import SqliteJournal
from interlock.sim.faulty_journal import FaultyJournal
from interlock.sim.harness import DESK_KEY, MM_KEY, Harness, around_the_clock, build, high_rate

RISK_KEY = "demo-risk-key"
OPERATOR_KEY = "demo-operator-key"
ADMIN_TOKEN = "demo-admin-token"


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@dataclass
class Stack:
    harness: Harness
    journal: Journal
    rest: Listener
    admin: Listener
    rest_client: httpx.Client
    admin_client: httpx.Client
    _n: int = 0

    def order(self, **overrides: Any) -> dict[str, Any]:
        """A valid desk-7 limit buy of 100 AAPL at 100.00 (resting: the ask is 100.01);
        each call a new client order id and quantity, so none is a duplicate."""
        self._n += 1
        body: dict[str, Any] = {
            "client_order_id": f"rest-{self._n}",
            "account": "desk-7",
            "strategy": "vwap",
            "symbol": "AAPL",
            "side": "buy",
            "quantity": 100 + self._n,
            "limit_price": "100.00",
        }
        body.update(overrides)
        return body

    def post(self, body: dict[str, Any], key: str = DESK_KEY, **headers: str) -> httpx.Response:
        return self.rest_client.post("/orders", json=body, headers={**bearer(key), **headers})


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    yield from _stack(tmp_path, around_the_clock())


@pytest.fixture
def flood_stack(tmp_path: Path) -> Iterator[Stack]:
    """A stack for floods on purpose: envelopes and monitors out of reach (still running)."""
    yield from _stack(tmp_path, high_rate(around_the_clock()))


@pytest.fixture
def faulty_stack(tmp_path: Path) -> Iterator[Stack]:
    """A stack whose journal's store breaks on demand (`stack.journal.break_store()`)."""
    yield from _stack(tmp_path, around_the_clock(), FaultyJournal())


def _stack(
    tmp_path: Path, config: GatewayConfig, journal: Journal | None = None
) -> Iterator[Stack]:
    journal = journal or SqliteJournal(tmp_path / "journal.db")
    # the wall clock, at whatever hour the tests run: the 24/7 calendar
    harness = build(config, journal=journal, clock=time.time_ns)
    gw = harness.gateway
    gw.start_heartbeat()  # a real clock: without renewals the lease runs out in 2 s
    rest = Listener(create_app(gw), "127.0.0.1", 0, "test-rest").start()
    admin = Listener(create_admin_app(gw), "127.0.0.1", 0, "test-admin").start()
    rest_client = httpx.Client(base_url=rest.url, timeout=10)
    admin_client = httpx.Client(base_url=admin.url, timeout=10)
    try:
        yield Stack(harness, journal, rest, admin, rest_client, admin_client)
    finally:
        rest_client.close()
        admin_client.close()
        rest.stop()
        admin.stop()
        if isinstance(journal, FaultyJournal):
            journal.heal_store()
        gw.close()


__all__ = ["ADMIN_TOKEN", "DESK_KEY", "MM_KEY", "OPERATOR_KEY", "RISK_KEY", "Stack", "bearer"]
