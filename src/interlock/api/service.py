"""`interlock serve`: one gateway with its REST, admin and (when present) FIX listeners.

Start order: the gateway recovers from its journal (`[journal]`: a SQLite file, or the
fleet's PostgreSQL as its `instance_id`) and joins the control plane, the lease heartbeat
starts, the venue is connected (a FIX venue must log on within its `logon_timeout_ms`, or
serve fails), the gateway's reconciliation with the venue (started with the gateway,
waiting for the Logon) completes or fails closed (VENUE_RECONCILING on /health and on
every order) and the reference source starts (the simulated mids, the venue's market data,
or the mark feed's listener), the alert rules' timer (`[alerts]`, gateway/alerting.py),
then the admin listener (the kill switch is up before any order port), then REST and FIX,
then the pre-open readiness watch (gateway/preopen.py), with every error-level record of
the `interlock` loggers captured for it from the reconciliation on. The venue and the
reference source come from `[venue]` and `[reference]` through `instance.open_venue`; a
simulated venue is announced loudly and shown on /health, so a demo is never taken for
trading.
Stop order is the reverse: order ports stop accepting and drain their requests in flight,
then the admin port, the feed and the venue, then `Gateway.close()` leaves the plane and
closes the journal, which commits what is queued first. Nothing is acknowledged that is
not on disk (DESIGN.md invariant 2).

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
from pathlib import Path
from typing import Any, Protocol

from interlock.api.admin import create_admin_app
from interlock.api.config import ServeConfig
from interlock.api.listener import Listener
from interlock.api.listeners import FixAcceptorConfig
from interlock.api.plane_config import close_plane, open_plane
from interlock.api.reference_feed import create_feed_app
from interlock.api.rest import create_app
from interlock.api.tls import server_context
from interlock.gateway.alerting import AlertLoop
from interlock.gateway.gateway import Gateway
from interlock.gateway.journal_config import open_journal
from interlock.instance import SIM_MID, build_instance, open_venue
from interlock.observe import error_capture
from interlock.venue.base import ExecutionSink

_log = logging.getLogger(__name__)
__all__ = ["SIMULATED_BANNER", "SIM_MID", "Service", "serve_until_signalled"]
SIMULATED_BANNER = (
    "*** SIMULATED VENUE: orders go to an in-process simulated exchange, not to any "
    'market ([venue] kind = "simulated") ***'
)


class Stoppable(Protocol):
    def stop(self) -> None: ...


class FixListener(Stoppable, Protocol):
    @property
    def address(self) -> tuple[str, int]:
        """(ip, port) the OS bound the acceptor to."""
        ...


def _start_fix(
    gateway: Gateway,
    fix_config: FixAcceptorConfig | None,
    attach: Callable[[ExecutionSink], None],
    work_dir: Path,
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
    attach(tap)
    acceptor: FixListener = acceptor_cls(gateway, tap, fix_config, work_dir).start()
    return acceptor


class Service:
    """The running service. `start()` then `stop()`; both from the same (main) thread."""

    def __init__(self, config: ServeConfig, *, seed: int = 7) -> None:
        self.config = config
        # every listener's TLS files first: a bad one stops serve before anything opens
        self._tls = {name: server_context(name, section) for name, section in
                     (("rest", config.rest), ("admin", config.admin))}  # fmt: skip
        if config.fix is not None:  # QuickFIX reads the files itself, and says less
            server_context("fix", config.fix)
        journal_dir = Path(config.journal.path).resolve().parent
        opened = open_venue(config.venue, config.instrument_map(),
                            store_dir=journal_dir / "fix-venue", seed=seed)  # fmt: skip
        self.opened = opened
        self.venue = opened.venue
        self.market = opened.market  # the simulated venue's market; None for a real venue
        self.simulated = opened.kind == "simulated"
        self.journal = open_journal(config.journal, config.instance_id)
        self.plane = open_plane(config.control_plane, clock=time.time_ns)
        source = config.reference.source
        reference_from = None if source == "feed" else self.market or self.venue
        self.gateway = build_instance(config, journal=self.journal, venue=self.venue,
                                      plane=self.plane, start=False,
                                      reference_from=reference_from)  # fmt: skip
        self.feed: Listener | None = None
        self.rest: Listener | None = None
        self.admin: Listener | None = None
        self.fix: FixListener | None = None
        self._stop_feed = threading.Event()
        self._feed: threading.Thread | None = None
        self._errors: error_capture.ErrorCapture | None = None
        self.alerts = AlertLoop(self.gateway)

    def start(self) -> Service:
        gw = self.gateway
        gw.start(reconcile_in_background=True)  # it waits for the venue's Logon below
        gw.start_heartbeat()
        cfg = self.config
        if self.simulated:
            _log.warning(SIMULATED_BANNER)
        else:
            fix = cfg.venue.fix
            assert fix is not None
            self.opened.connect(fix.logon_timeout_ms / 1_000)
        gw.wait_reconciled(cfg.venue_reconcile_timeout_ms / 1_000 + 1.0)
        self._errors = error_capture.install(gw.preopen.gate, time.time_ns)
        if self.market is not None and cfg.reference.source != "feed":
            self._feed = threading.Thread(
                target=self._reference_feed, name="reference-feed", daemon=True
            )
            self._feed.start()
        feed = cfg.reference.feed
        if feed is not None:
            app = create_feed_app(gw.update_reference, cfg.instrument_map(), feed.publishers)
            self.feed = Listener(app, feed.host, feed.port, "reference feed").start()
        self.alerts.start()
        self.admin = Listener(create_admin_app(gw), cfg.admin.host, cfg.admin.port, "admin",
                              self._tls["admin"])  # fmt: skip
        self.admin.start()
        self.rest = Listener(create_app(gw, venue=self.venue_status), cfg.rest.host,
                             cfg.rest.port, "rest", self._tls["rest"]).start()  # fmt: skip
        fix_dir = Path(cfg.journal.path).resolve().parent / "fix"
        self.fix = _start_fix(gw, cfg.fix, self.opened.attach, fix_dir)
        gw.preopen.start()  # reference prices are flowing by now: the first look is fair
        return self

    def venue_status(self) -> str:
        """What /health says of the venue: `simulated`, or `fix up` / `fix down`."""
        if self.simulated:
            return "simulated"
        return "fix up" if getattr(self.venue, "logged_on", False) else "fix down"

    def _reference_feed(self) -> None:
        """Re-stamp the simulated mids well inside the staleness bound: the simulated venue
        is its own reference feed (`source` "simulated", or "venue" with that venue)."""
        interval = self.config.limits.collar.reference_max_age_ms / 4_000
        market = self.market
        assert market is not None
        while True:
            for symbol in market.symbols:
                self.gateway.update_reference(symbol, market.mid(symbol))
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
        self.alerts.stop()
        if self.feed is not None:
            self.feed.stop()
        self._stop_feed.set()
        if self._feed is not None:
            self._feed.join()
        self.gateway.preopen.stop()
        if self._errors is not None:
            error_capture.remove(self._errors)
        self.opened.disconnect()
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
        if service.simulated:
            announce(SIMULATED_BANNER)
        service.start()
        assert service.rest is not None and service.admin is not None
        fix_venue = config.venue.fix
        if fix_venue is not None:
            announce(f"venue fix {fix_venue.sender_comp_id} -> {fix_venue.target_comp_id} "
                     f"at {fix_venue.host}:{fix_venue.port}: logged on")  # fmt: skip
        dc, watch = config.venue.drop_copy, service.gateway.drop_copy
        if dc is not None and watch is not None:
            state = ("logged on" if watch.up else
                     "DOWN: executions are not being compared (alerted; reconnecting)")  # fmt: skip
            announce(f"drop copy {dc.sender_comp_id} -> {dc.target_comp_id} at "
                     f"{dc.host}:{dc.port}: {state}")  # fmt: skip
        announce(f"reference prices from {config.reference.source}")
        if service.feed is not None:
            announce(f"reference feed listening on {service.feed.url}")
        announce(f"rest listening on {service.rest.url}")
        announce(f"admin listening on {service.admin.url}")
        if service.fix is not None:  # read back from the OS, never the config
            host, port = service.fix.address
            private = getattr(service.fix, "private_address", None)
            behind = (
                ""
                if private is None
                else f" (TLS; QuickFIX behind it on {private[0]}:{private[1]})"
            )
            announce(f"fix acceptor listening on {host}:{port}{behind}")
        else:
            announce("fix acceptor not configured")
        announce(f"journal {config.journal.describe(config.instance_id)}")
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
