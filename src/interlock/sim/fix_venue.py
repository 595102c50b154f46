"""Serve processes routing to a FIX exchange: the FakeExchange they share and the part of
each one's config that points it there.

A test (in-process exchange, serve processes beside it) writes each member's `[venue]`
table with its own SenderCompID, so every member has its own session on the one exchange
and the exchange's `orders_of` / `book` tell the members apart. Prices come from the
venue's market data (`[reference] source = "venue"`), as they would from a real venue.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from interlock.sim.fix import FakeExchange

VENUE_COMP_ID = "VENUE"


def fix_venue_table(port: int, comp_id: str, *, reconnect_s: int = 1) -> dict[str, Any]:
    """The `[venue]` and `[reference]` tables of a serve config: route over FIX as `comp_id`
    to the exchange on 127.0.0.1:`port`, marks from its market data."""
    return {
        "venue": {
            "kind": "fix",
            "fix": {
                "port": port,
                "sender_comp_id": comp_id,
                "target_comp_id": VENUE_COMP_ID,
                "heartbeat_s": 5,
                "reconnect_s": reconnect_s,
                "logon_timeout_ms": 10_000,
                "file_log": False,
            },
        },
        "reference": {"source": "venue"},
    }


def fake_exchange(
    work_dir: Path,
    port: int,
    clients: tuple[str, ...],
    symbols: tuple[str, ...],
    *,
    mid: Decimal = Decimal("100.00"),
    publish_every_s: float = 0.3,
) -> FakeExchange:
    """A started exchange for `clients` (their CompIDs), marks at `mid` re-sent every
    `publish_every_s`; sequence numbers survive a client's restart (no reset on Logon)."""
    return FakeExchange(
        work_dir, port, VENUE_COMP_ID, clients=clients, reset_on_logon=False,
        mids=dict.fromkeys(symbols, mid), publish_every_s=publish_every_s, file_log=False,
    ).start()  # fmt: skip


__all__ = ["VENUE_COMP_ID", "fake_exchange", "fix_venue_table"]
