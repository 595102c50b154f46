"""Builders for a complete in-process gateway: used by tests, the demo and benchmarks.

A `Harness` wires a real Gateway to a journal, the embedded control plane, and the seeded
simulated venue whose mid prices feed the gateway's reference prices. Time is a manual
clock unless a real one is given, so tests never sleep.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from interlock.api.config import ServeConfig, load_config, parse_config
from interlock.control.embedded import EmbeddedControlPlane
from interlock.control.ports import ControlPlane
from interlock.domain.clock import ManualClock
from interlock.domain.commands import OrderRequest
from interlock.domain.decision import Decision
from interlock.domain.enums import OrderType, Side
from interlock.gateway.config import GatewayConfig
from interlock.gateway.gateway import Gateway
from interlock.instance import build_instance
from interlock.journal.base import Journal
from interlock.journal.memory import MemoryJournal
from interlock.venue.market import MarketModel
from interlock.venue.simulated import SimulatedVenue

DESK_KEY = "demo-desk-7-key"
MM_KEY = "demo-mm-key"
START_NS = 1_754_056_800_000_000_000
"""2025-08-01 14:00 UTC (10:00 New York, a Friday): continuous trading in the default
calendar, far from its boundaries. A fixed instant; tests advance it by hand."""

NEW_YORK = ZoneInfo("America/New_York")


def new_york_ns(day: str, at: str) -> int:
    """UTC ns of New York local time `at` ("09:29" or "09:29:30") on `day` ("2025-08-01")."""
    local = datetime.combine(date.fromisoformat(day), time.fromisoformat(at), tzinfo=NEW_YORK)
    return int(local.timestamp()) * 1_000_000_000


PRE_OPEN_NS = new_york_ns("2025-08-01", "08:00")  # the default calendar's pre-open
AUCTION_NS = new_york_ns("2025-08-01", "09:29")  # its opening auction


@dataclass
class Harness:
    gateway: Gateway
    journal: Journal
    venue: SimulatedVenue
    market: MarketModel
    plane: ControlPlane
    clock: Callable[[], int]
    _n: list[int] = field(default_factory=lambda: [0])

    def order(self, **overrides: Any) -> OrderRequest:
        """A valid limit buy of 100 AAPL at the mid for desk-7/vwap, with overrides."""
        self._n[0] += 1
        fields: dict[str, Any] = dict(
            client_order_id=f"c{self._n[0]}",
            account="desk-7",
            strategy="vwap",
            symbol="AAPL",
            side=Side.BUY,
            quantity=100,
            order_type=OrderType.LIMIT,
            limit_price=None,
        )
        fields.update(overrides)
        if fields["order_type"] is OrderType.LIMIT and fields["limit_price"] is None:
            inst = self.gateway.instruments[fields["symbol"]]
            fields["limit_price"] = inst.to_price(self.market.mid(fields["symbol"]))
        return OrderRequest(**fields)

    def submit(self, key: str = DESK_KEY, **overrides: Any) -> Decision:
        """Submit, make it durable (releasing it to the venue), return the decision."""
        decision = self.gateway.submit(self.order(**overrides), key)
        self.journal.flush()
        if decision.order_id is not None:  # the release runs on its own thread after commit
            self.gateway.wait(decision)
        return decision

    def refresh_references(self) -> None:
        for symbol in self.market.symbols:
            self.gateway.update_reference(symbol, self.market.mid(symbol))


def build(
    config: GatewayConfig | None = None,
    *,
    journal: Journal | None = None,
    clock: Callable[[], int] | None = None,
    seed: int = 7,
    mid: Decimal = Decimal("100.00"),
    half_spread_ticks: int = 1,
    depth: int = 5_000,
    volatility_ticks: int = 0,
    disabled_checks: tuple[str, ...] = (),
    start: bool = True,
    plane: ControlPlane | None = None,
    restart_of: Harness | None = None,
    venue_class: type[SimulatedVenue] = SimulatedVenue,
) -> Harness:
    """A started gateway on the default config, every symbol at `mid`, references fresh;
    on `plane` if given (an etcd one, say), else an embedded plane on the same clock.
    `restart_of`: a gateway restarted against that harness's venue and market (which keep
    what it was sent), as a restarted process reconnects to the same exchange.
    `venue_class`: the simulated venue to trade on (sim/scripted_venue.py's, say)."""
    cfg = config or load_config()
    clk = clock or ManualClock(START_NS)
    instruments = cfg.instrument_map()
    books = {}
    for sym, inst in instruments.items():
        ticks = inst.to_ticks(mid)
        books[sym] = (ticks if ticks is not None else 100, half_spread_ticks, depth)
    market = MarketModel(books, seed=seed, volatility_ticks=volatility_ticks)
    venue = venue_class(market, seed=seed)
    if restart_of is not None:
        market, venue = restart_of.market, restart_of.venue
    jr = journal if journal is not None else MemoryJournal()
    plane = plane if plane is not None else EmbeddedControlPlane(clock=clk)
    gw = build_instance(cfg, journal=jr, venue=venue, plane=plane, clock=clk,
                        disabled_checks=disabled_checks, start=False)  # fmt: skip
    market.subscribe(gw.update_reference)  # a bound method: `unsubscribe` finds it
    harness = Harness(gw, jr, venue, market, plane, clk)
    if start:
        gw.start()
        harness.refresh_references()
    return harness


def around_the_clock(config: GatewayConfig | None = None) -> ServeConfig:
    """`config` (default: the packaged one) with the 24/7 calendar (`always_open`): for
    rigs on the wall clock, which must work at any hour a test runs."""
    base = (config or load_config()).model_dump(mode="json")
    base["calendar"] = {"always_open": True}
    return parse_config(base, "around-the-clock config")


def config_with(**limits_overrides: Any) -> ServeConfig:
    """The default config with `limits` keys replaced (nested dicts merge one level)."""
    base = load_config().model_dump(mode="json")
    for key, value in limits_overrides.items():
        if isinstance(value, dict) and isinstance(base["limits"].get(key), dict):
            base["limits"][key] = {**base["limits"][key], **value}
        else:
            base["limits"][key] = value
    return parse_config(base, "test config")


_FAR = 10**9


def high_rate(config: GatewayConfig | None = None) -> ServeConfig:
    """`config` (default: the packaged one) with every rate envelope, the message throttle,
    the order-to-trade ratio and every runaway-monitor threshold out of reach: for
    durability and throughput tests and benchmarks that flood on purpose. The monitors
    still run and cost what they cost; they just never trip."""
    data = (config or load_config()).model_dump(mode="json")
    limits = data["limits"]
    window = {"count": _FAR, "window_ms": 1_000}
    limits["rates"] = {k: window for k in limits["rates"]}
    limits["messages"] = {k: window for k in limits["messages"]}
    limits["order_to_trade"] = {"max_ratio": _FAR, "min_orders": _FAR}
    far = {"max_orders_per_second": _FAR, "max_orders_per_minute": _FAR,
           "max_notional_per_second": "1e15", "max_notional_per_minute": "1e15"}  # fmt: skip
    limits["defaults"].update(far)
    for override in limits["accounts"].values():
        override.update(far)
    data["monitors"] = {
        "repeated_child": {"count": _FAR},
        "order_to_fill": {"min_orders": _FAR},
        "account_flow": {"max_orders": _FAR, "instance_max_orders": _FAR},
        "traded_notional": {"max_notional": "1e15"},
        "reject_storm": {"min_rejects": _FAR, "instance_min_rejects": _FAR},
    }
    return parse_config(data, "high-rate test config")
