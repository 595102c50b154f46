"""Shared builders for the fleet tests: an in-process fleet on a manual clock, orders."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from interlock.api.config import load_config, parse_config
from interlock.domain.commands import OrderRequest
from interlock.domain.decision import Decision
from interlock.domain.enums import Side
from interlock.gateway.config import GatewayConfig
from interlock.sim.fleet import InProcessFleet
from interlock.sim.harness import DESK_KEY, START_NS, ManualClock

OLD, NEW = "build-2012-07-27", "build-rlp"
OLD_FLAGS, NEW_FLAGS = "flags-power-peg", "flags-rlp"


def fleet(size: int = 8, config: GatewayConfig | None = None) -> tuple[InProcessFleet, ManualClock]:
    clock = ManualClock(START_NS)
    f = InProcessFleet(size, config=config, clock=clock, build_digest=OLD, flag_digest=OLD_FLAGS)
    return f, clock


def request(n: int, **overrides: Any) -> OrderRequest:
    """A distinct small limit order (quantity varies, so none is a duplicate of another)."""
    fields: dict[str, Any] = dict(
        client_order_id=f"o{n}", account="desk-7", strategy="smars", symbol="AAPL",
        side=Side.BUY, quantity=1 + n % 997, limit_price=Decimal("100.00"),
    )  # fmt: skip
    fields.update(overrides)
    return OrderRequest(**fields)


def submit(f: InProcessFleet, instance_id: str, n: int, **overrides: Any) -> Decision:
    """Submit one order to one instance and make it durable (released, if accepted)."""
    d = f[instance_id].submit(request(n, **overrides), DESK_KEY)
    f.instances[instance_id].journal.flush()
    return d


def tick(f: InProcessFleet, clock: ManualClock, ms: int, renew: list[str] | None = None) -> None:
    """Let `ms` pass; `renew` (default: all) heartbeat; reference prices stay fresh."""
    clock.advance_ms(ms)
    f.heartbeat(renew)
    f.refresh_references()


def budget_config(limit: int = 1_000, slice_shares: int = 500, on: bool = True) -> GatewayConfig:
    """desk-7 may hold `limit` AAPL shares, fleet-wide (`on`) or per instance (not `on`),
    asked for `slice_shares` at a time."""
    data = load_config().model_dump(mode="json")
    data["limits"]["accounts"]["desk-7"]["max_position"] = limit
    budget = {"account": "desk-7", "symbol": "AAPL", "slice_shares": slice_shares}
    data["fleet"] = {"budgets": [budget] if on else []}
    return parse_config(data, "fleet budget test")
