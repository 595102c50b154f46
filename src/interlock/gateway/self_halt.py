"""The gateway halting itself: the runaway monitors' trips and the daily-loss halt.

A component the `Gateway` holds (`gateway.self_halts`), so the order path reads on one
screen. Both halts are decided under the gateway lock (the monitors are fed there; a fill
or a mark moves the P&L there) and written after it is let go, because applying a halt
takes that lock to cancel what it covers.

The loss halt is latched: an account halted for loss stays latched while it is past its
limit, so a person's resume is not undone by the next tick, and re-arms once it is back
under the limit. `limits.loss_halt_allows_reducing` lets an order that can only reduce a
position through a loss halt (never through any other halt covering it). The latch is not
journaled: after a restart an account still past its limit when the feed marks it again is
halted again (fail-safe), and a person resumes it again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable

from interlock.control.fleet_halt import HaltReport
from interlock.control.halt_view import HaltView
from interlock.domain.enums import HaltScope
from interlock.domain.money import fmt_money
from interlock.domain.order import Order
from interlock.domain.reject import RejectCode
from interlock.gateway.membership import FleetMembership
from interlock.observe import MonitorConfig, RunawayMonitor, Trip, build_monitor
from interlock.risk.book import Book, reduces
from interlock.risk.checks.loss import loss_breached

_log = logging.getLogger("interlock.gateway.gateway")
_LOSS_LIMIT = RejectCode.LOSS_LIMIT.value  # a loss halt's reason reads as the check's rejection
LOSS_MONITOR = "loss-monitor"
"""Who a halt for the daily loss limit is written by (fills and marks alike)."""


class SelfHalts:
    """The instance's own halts: the runaway monitors' trips and the latched loss halt."""

    def __init__(
        self,
        monitors: MonitorConfig,
        disabled: Iterable[str],
        *,
        book: Book,
        halts: HaltView,
        fleet: FleetMembership,
        lock: threading.Lock,
        reducing_on_loss: bool,
    ) -> None:
        """`disabled` names monitors switched off; `lock` is the gateway's."""
        self.book = book
        self.halts = halts
        self.fleet = fleet
        self._lock = lock
        self._reducing_on_loss = reducing_on_loss
        self._loss_latched: set[str] = set()  # accounts halted for loss, until back under it
        self.trip_reports: list[tuple[Trip, HaltReport]] = []
        # fed under the gateway lock, fired once it is let go (see fire)
        self.monitor: RunawayMonitor = build_monitor(monitors, self.trip, disabled)

    def passes_loss_halt(self, order: Order) -> bool:
        """True if the only halts covering `order` are its account's loss halt, the config
        lets risk-reducing orders through it, and `order` can only reduce the position."""
        if not self._reducing_on_loss:
            return False
        h = self.halts.get(HaltScope.ACCOUNT, order.account)
        if h is None or h.who != LOSS_MONITOR:
            return False
        others = [x for x in self.halts.records() if x is not h and self.halts.covers(x, order)]
        return not others and reduces(self.book.account(order.account), order)

    def loss_breaches(self, accounts: Iterable[str]) -> list[tuple[str, str]]:
        """Under the lock: the accounts newly past their daily loss limit, with the reason.

        An account halted for loss stays latched while it is past the limit, so a person's
        resume is not undone by the next tick; once back under the limit it re-arms."""
        found: list[tuple[str, str]] = []
        latched = self._loss_latched
        for name in accounts:
            acct = self.book.accounts[name]
            if not loss_breached(acct):
                latched.discard(name)
            elif name not in latched:
                latched.add(name)
                if self.halts.get(HaltScope.ACCOUNT, name) is not None:
                    continue  # halted already (by a person, or before a restart)
                found.append((name, f"{_LOSS_LIMIT}: account {name} day loss "
                              f"{fmt_money(-acct.pnl)} (realized plus marked) over daily loss "
                              f"limit {fmt_money(acct.risk.daily_loss_limit)}"))  # fmt: skip
        return found

    def halt_for_loss(self, account: str, reason: str) -> None:
        """Halt the account fleet-wide (journaled and confirmed by every instance, which
        cancels its working orders). Written, not waited for: this may be a venue thread."""
        _log.error("halting account %s: %s", account, reason)
        record = self.fleet.halt_record(HaltScope.ACCOUNT, account, reason, LOSS_MONITOR)
        self.fleet.plane.put_halt(record)

    def trip(self, trip: Trip) -> None:
        """A monitor's verdict: a confirmed halt across the fleet, from this instance."""
        _log.error("monitor %s tripped: halting %s %s: %s", trip.detector, trip.scope.value,
                   trip.target, trip.reason,
                   extra={"event": "monitor.tripped", "detector": trip.detector,
                          "scope": trip.scope.value, "target": trip.target,
                          "reason": trip.reason})  # fmt: skip
        report = self.fleet.halt(trip.scope, trip.target, f"{trip.detector}: {trip.reason}",
                                 f"observe:{trip.detector}")  # fmt: skip
        self.trip_reports.append((trip, report))

    def fire(self) -> None:
        """Pull the kill switch for the monitors' pending trips, outside the lock."""
        with self._lock:
            trips = self.monitor.take()
        for trip in trips:
            self.trip(trip)
