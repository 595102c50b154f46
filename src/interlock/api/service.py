"""`interlock serve`: one gateway with its REST, admin and (when present) FIX listeners.

Start order: the gateway recovers from its SQLite journal and joins the embedded control
plane, the lease heartbeat and the simulated reference feed start, then the admin listener
(the kill switch is up before any order port), then REST and FIX. Stop order is the
reverse: order ports stop accepting and drain their requests in flight, then the admin
port, then `Gateway.close()` leaves the plane and closes the journal, which commits what
is queued first. Nothing is acknowledged that is not on disk (DESIGN.md invariant 2).

FIX is started only if the config has a `fix` section and `interlock.api.fix` imports
(see `_start_fix`): it must never be a hard dependency of REST or the kill switch.
"""

from __future__ import annotations

import importlib
import logging
import signal
import threading
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

from interlock.api.admin import create_admin_app
from interlock.api.config import ServeConfig
from interlock.api.listener import Listener
from interlock.api.listeners import FixAcceptorConfig
from interlock.api.plane_config import close_plane, open_plane
from interlock.api.rest import create_app
from interlock.gateway.gateway import Gateway
from interlock.instance import build_instance
from interlock.journal.sqlite import SqliteJournal
from interlock.venue.market import MarketModel
from interlock.venue.simulated import SimulatedVenue

_log = logging.getLogger(__name__)
SIM_MID = Decimal("100.00")  # every symbol's opening mid on the simulated venue


class Stoppable(Protocol):
    def stop(self) -> None: ...


class FixListener(Stoppable, Protocol):
    @property
    def address(self) -> tuple[str, int]:
        """(ip, port) the OS bound the acceptor to."""
        ...


def _start_fix(
    gateway: Gateway, fix_config: FixAcceptorConfig | None, venue: SimulatedVenue, work_dir: Path
) -> FixListener | None:
    """The FIX acceptor, if the config has a `fix` section and the FIX package imports.

    Looked up at run time, not imported: FIX is an optional extra (QuickFIX), and REST and
    the kill switch must run without it. The venue is re-attached to an ExecutionTap so the
    acceptor hears fills after the gateway applied them; the tap forwards to the gateway
    first, so an event arriving during the switch reaches the gateway either way.
    """
    if fix_config is None:
        return None
    try:
        acceptor_cls: Any = importlib.import_module("interlock.api.fix").FixAcceptor
        tap_cls: Any = importlib.import_module("interlock.venue.tap").ExecutionTap
    except (ImportError, AttributeError) as exc:
        _log.warning("FIX configured but not available, skipped: %s", exc)
        return None
    tap = tap_cls(gateway)
    venue.attach(tap)
    acceptor: FixListener = acceptor_cls(gateway, tap, fix_config, work_dir).start()
    return acceptor


class Service:
    """The running service. `start()` then `stop()`; both from the same (main) thread."""

    def __init__(self, config: ServeConfig, *, seed: int = 7) -> None:
        self.config = config
        books = {}
        for symbol, inst in config.instrument_map().items():
            ticks = inst.to_ticks(SIM_MID)
            books[symbol] = (ticks if ticks is not None else 100, 1, 5_000)
        self.market = MarketModel(books, seed=seed, volatility_ticks=0)
        self.venue = SimulatedVenue(self.market, seed=seed)
        self.journal = SqliteJournal(
            config.journal.path, max_wait_s=config.journal.max_wait_ms / 1_000
        )
        self.plane = open_plane(config.control_plane, clock=time.time_ns)
        self.gateway = build_instance(config, journal=self.journal, venue=self.venue,
                                      plane=self.plane, start=False)  # fmt: skip
        self.market.subscribe(self.gateway.update_reference)
        self.rest: Listener | None = None
        self.admin: Listener | None = None
        self.fix: FixListener | None = None
        self._stop_feed = threading.Event()
        self._feed: threading.Thread | None = None

    def start(self) -> Service:
        gw = self.gateway
        gw.start()
        gw.start_heartbeat()
        self._feed = threading.Thread(
            target=self._reference_feed, name="reference-feed", daemon=True
        )
        self._feed.start()
        cfg = self.config
        self.admin = Listener(create_admin_app(gw), cfg.admin.host, cfg.admin.port, "admin")
        self.admin.start()
        self.rest = Listener(create_app(gw), cfg.rest.host, cfg.rest.port, "rest").start()
        fix_dir = Path(cfg.journal.path).resolve().parent / "fix"
        self.fix = _start_fix(gw, cfg.fix, self.venue, fix_dir)
        return self

    def _reference_feed(self) -> None:
        """Re-stamp the simulated mids well inside the staleness bound: the simulated venue
        is the reference feed until a real one is configured."""
        interval = self.config.limits.collar.reference_max_age_ms / 4_000
        while True:
            for symbol in self.market.symbols:
                self.gateway.update_reference(symbol, self.market.mid(symbol))
            if self._stop_feed.wait(interval):
                return

    def stop(self) -> None:
        """Stop accepting orders, drain, stop the kill switch last, flush and close."""
        if self.rest is not None:
            self.rest.stop()
        if self.fix is not None:
            self.fix.stop()
        if self.admin is not None:
            self.admin.stop()
        self._stop_feed.set()
        if self._feed is not None:
            self._feed.join()
        self.gateway.close()
        close_plane(self.plane)


def serve_until_signalled(config: ServeConfig, announce: Callable[[str], None]) -> None:
    """Run the service until SIGTERM or SIGINT, then stop it cleanly (main thread only)."""
    stop = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    service = Service(config)
    try:
        service.start()
        assert service.rest is not None and service.admin is not None
        announce(f"rest listening on {service.rest.url}")
        announce(f"admin listening on {service.admin.url}")
        if service.fix is not None:  # read back from the OS, never the config
            host, port = service.fix.address
            announce(f"fix acceptor listening on {host}:{port}")
        else:
            announce("fix acceptor not configured")
        announce(f"journal {config.journal.path}")
        plane = config.control_plane
        where = "embedded (a fleet of one)" if plane.embedded else f"{plane.url} ({plane.prefix})"
        announce(f"control plane {where}; {service.gateway.gate.state(time.time_ns())}")
        while not stop.wait(0.2):
            pass
        announce("stopping: draining listeners, flushing the journal")
    finally:
        service.stop()
        for s, handler in previous.items():
            signal.signal(s, handler)
    announce(f"stopped; journal durable up to seq {service.journal.durable_seq}")
