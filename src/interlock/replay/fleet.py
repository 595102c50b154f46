"""The protected runs' fleet: eight real gateways on one embedded control plane.

Each instance is a `Gateway` (order path, MemoryJournal, instance gate, kill switch) with
its own `VenuePort` into the shared exchange; a restart onto another build is a real one:
the gateway is closed (it leaves the plane) and a new one starts from the journal the old
one wrote, as `sim.fleet.InProcessFleet` does (which records but never fills orders,
so it cannot stand in for a market here). Builds are named by their build string; flag
manifests are attested when the run uses Interlock's flags.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from interlock.control.embedded import EmbeddedControlPlane
from interlock.control.fleet_halt import HaltReport
from interlock.control.plane import ControlEvent, HaltPut, Release
from interlock.domain.order import Order
from interlock.flags.manifest import FlagManifest
from interlock.gateway.config import GatewayConfig
from interlock.gateway.gateway import Gateway
from interlock.instance import build_instance
from interlock.journal.memory import MemoryJournal
from interlock.observe import Trip
from interlock.replay.exchange import Exchange, VenuePort
from interlock.replay.scenario import SERVERS
from interlock.replay.smars import Child

Done = Callable[[str, Child, Order, int], None]


class ReplayFleet:
    def __init__(
        self,
        config: GatewayConfig,
        clock: Callable[[], int],
        exchange: Exchange,
        on_done: Done,
        *,
        build: str,
        disabled_checks: Iterable[str],
        manifests: Mapping[str, FlagManifest] | None,
        setup: Callable[[EmbeddedControlPlane], None] = lambda plane: None,
    ) -> None:
        self.config = config
        self.clock = clock
        self.exchange = exchange
        self.on_done = on_done
        self.disabled = tuple(disabled_checks)
        self.manifests = manifests
        flags = self.flag_digest(build)
        self.config_digest = config.fleet_digest()
        release = Release(build, flags, 1, SERVERS, config_digest=self.config_digest)
        self.plane = EmbeddedControlPlane(release, clock)
        setup(self.plane)
        self.halts: list[tuple[int, str]] = []  # (time, "scope:target by who: reason")
        self.plane.watch(self._watch)
        self.builds: dict[str, str] = {}
        self.gateways: dict[str, Gateway] = {}
        self._retired: list[Gateway] = []
        self.journals: dict[str, MemoryJournal] = {}
        self.ports: dict[str, VenuePort] = {}
        for server in SERVERS:
            self._start(server, build, MemoryJournal())
        exchange.listeners.append(self._reference)

    def flag_digest(self, build: str) -> str:
        return self.manifests[build].digest() if self.manifests is not None else ""

    def __getitem__(self, server: str) -> Gateway:
        return self.gateways[server]

    def _start(self, server: str, build: str, journal: MemoryJournal) -> Gateway:
        port = VenuePort(server, self.exchange, self.clock, self.on_done)
        manifest = self.manifests[build] if self.manifests is not None else None
        cfg = self.config.model_copy(update={"instance_id": server})
        gw = build_instance(cfg, journal=journal, venue=port, plane=self.plane,
                            clock=self.clock, disabled_checks=self.disabled,
                            build_digest=build, flag_manifest=manifest, start=False)  # fmt: skip
        port.sink = gw
        gw.start()
        self.gateways[server], self.journals[server], self.ports[server] = gw, journal, port
        self.builds[server] = build
        self.refresh([server])
        return gw

    def trip_reports(self) -> list[tuple[Trip, HaltReport]]:
        """Every monitor trip of every instance, restarted ones too, in time order."""
        reports = [r for gw in (*self._retired, *self.gateways.values()) for r in gw.trip_reports]
        return sorted(reports, key=lambda r: r[0].ts)

    def restart(self, server: str, build: str) -> Gateway:
        """Stop `server` and start it on `build`, recovering from its own journal."""
        self._retired.append(self.gateways[server])
        self.gateways[server].close()
        return self._start(server, build, self.journals[server].reopened())

    def heartbeat(self) -> None:
        for gw in self.gateways.values():
            gw.heartbeat()

    def refresh(self, servers: Iterable[str] | None = None) -> None:
        """Fresh reference prices (the mid) for every symbol on `servers` (default all)."""
        mids = {s: self.exchange.mid_cents(s) for s in self.exchange.market.symbols}
        for server in servers or SERVERS:
            gw = self.gateways[server]
            for symbol, cents in mids.items():
                gw.update_reference(symbol, cents)

    def _reference(self, symbol: str, cents: int) -> None:
        for gw in self.gateways.values():
            gw.update_reference(symbol, cents)

    def _watch(self, event: ControlEvent) -> None:
        if isinstance(event, HaltPut):
            h = event.halt
            self.halts.append((self.clock(), f"{h.scope.value}:{h.target} by {h.who}: {h.reason}"))

    def close(self) -> None:
        for gw in self.gateways.values():
            gw.close()
