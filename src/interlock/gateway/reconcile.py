"""Reconciliation with the venue at start: the journal's open orders against the venue's.

A restart knows from its journal what it decided and which orders the venue adapter took
(`Routed`); it cannot know what happened at the venue while it was down, nor whether an
order decided but not routed left before the crash. So `Gateway.start` holds the gate shut
(VENUE_RECONCILING), asks the venue (`Venue.reconcile`) about every order the journal
holds open, and applies these rules before any trading:

- the venue does not know the order: it never reached the venue (decided, never routed,
  or lost there): Cancelled, its reservation released, the reason says reconciliation;
- the venue knows it: it is working (an unrouted one gets its `Routed` now: the crash
  fell between the send and the record); every execution the journal lacks is applied as
  a fill (de-duplicated by exec id, so a resend is harmless); closed at the venue with
  shares left: Cancelled;
- an open order or an execution at the venue for an order the journal does not hold
  (Interlock never released it: something traded around the interlock) halts its
  account through the fleet halt and logs an error; an open one it holds as closed is
  cancelled at the venue, and any execution of it the journal lacks is applied.

A venue that cannot answer within `venue_reconcile_timeout_ms` leaves the gate shut with
VENUE_RECONCILING: the instance fails closed (and /health says so) rather than trade on a
guess. What reconciliation journals is durable before the gate opens.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from interlock.control.instance_gate import InstanceGate
from interlock.domain.clock import Clock
from interlock.domain.enums import HaltScope
from interlock.domain.events import Cancelled, Event, Routed
from interlock.domain.order import Order
from interlock.domain.reject import RejectCode, Rejection, reject
from interlock.gateway.state import InstanceState
from interlock.venue.base import Venue, VenueOrder, VenueStatus

_log = logging.getLogger(__name__)
WHO = "reconciliation"


@dataclass(frozen=True, slots=True)
class ReconcileReport:
    """What one reconciliation did; `error` set: it failed and the gate stays shut."""

    asked: int = 0
    closed: tuple[int, ...] = ()  # unknown at the venue (or closed there): Cancelled
    routed: tuple[int, ...] = ()  # decided, not routed, but at the venue: working
    fills: int = 0  # executions applied that the journal lacked
    halted: tuple[str, ...] = ()  # accounts halted: something traded around the interlock
    error: str = ""


def reconciling(instance_id: str) -> Rejection:
    return reject(
        RejectCode.VENUE_RECONCILING,
        f"instance {instance_id} is reconciling its open orders with the venue; it routes "
        "nothing until the venue has answered",
        limit="reconciliation complete",
        attempted="reconciling",
    )


class Reconciler:
    """Runs the rules above once per start, from the starting thread (or its own)."""

    def __init__(
        self,
        *,
        instance_id: str,
        venue: Venue,
        state: InstanceState,
        gate: InstanceGate,
        lock: threading.Lock,
        record: Callable[[Event], int],
        fill: Callable[[int, int, int, str], bool],
        cancel: Callable[[int], None],
        halt: Callable[[HaltScope, str, str, str], object],
        flush: Callable[[float], object],
        clock: Clock,
        timeout_s: float,
    ) -> None:
        self.instance_id = instance_id
        self._venue = venue
        self._state = state
        self._gate = gate
        self._lock = lock
        self._record = record
        self._fill = fill
        self._cancel = cancel
        self._halt = halt
        self._flush = flush
        self._clock = clock
        self.timeout_s = timeout_s
        self.report: ReconcileReport | None = None  # None: not (yet) done
        self.done = threading.Event()

    def hold(self) -> None:
        self._gate.hold(reconciling(self.instance_id))

    def run(self) -> ReconcileReport:
        """Ask the venue, apply the rules, open the gate; or keep it shut on failure."""
        book = self._state.book
        with self._lock:
            orders = list(book.open_orders.values())
        ask = getattr(self._venue, "reconcile", None)
        try:
            if ask is None:  # a venue without the port (a test's fake) can vouch for nothing
                if orders:
                    raise TypeError(f"{type(self._venue).__name__} has no reconcile port")
                status = VenueStatus({})
            else:
                status = ask(orders, self.timeout_s)
        except Exception as exc:
            return self._failed(exc)
        closed: list[int] = []
        routed: list[int] = []
        fills = 0
        for order in orders:
            got = status.orders.get(order.order_id) or VenueOrder(order.order_id, known=False)
            if not got.known:
                if self._close(order, "the venue does not know it"):
                    closed.append(order.order_id)
                continue
            with self._lock:
                if order.order_id in self._state.unrouted:
                    self._record(Routed(self._clock(), order.order_id))
                    routed.append(order.order_id)
            fills += self._executions(got)
            if got.filled > order.filled:
                _log.error("venue reports order %d filled %d, the executions it gave add to %d",
                           order.order_id, got.filled, order.filled)  # fmt: skip
            if not got.open and self._close(order, "closed at the venue"):
                closed.append(order.order_id)
        halted: list[str] = []
        for got in status.others:
            fills += self._other(got, halted)
        report = ReconcileReport(len(orders), tuple(closed), tuple(routed), fills, tuple(halted))
        try:
            self._flush(self.timeout_s)  # what it found is durable before anything trades
        except Exception as exc:
            return self._failed(exc)
        changed = report.closed or report.routed or report.fills or report.halted
        (_log.warning if changed else _log.info)("reconciled with the venue: %s", report)
        self.report = report
        self._gate.unhold()
        self.done.set()
        return report

    def _failed(self, exc: BaseException) -> ReconcileReport:
        why = f"{type(exc).__name__}: {exc}"
        ms = round(self.timeout_s * 1_000)
        self._gate.hold(reject(
            RejectCode.VENUE_RECONCILING,
            f"instance {self.instance_id} could not reconcile with its venue within {ms:,} ms "
            f"({why}); it routes nothing until it is restarted against an answering venue",
            limit=f"a venue answer within {ms} ms",
            attempted="no answer",
        ))  # fmt: skip
        _log.error("reconciliation with the venue failed, the instance stays closed: %s", why)
        self.report = ReconcileReport(error=why)
        self.done.set()
        return self.report

    def _close(self, order: Order, why: str) -> bool:
        with self._lock:
            if not order.status.is_open:
                return False
            self._record(Cancelled(self._clock(), order.order_id, order.leaves,
                                   f"reconciliation: {why}"))  # fmt: skip
            return True

    def _executions(self, got: VenueOrder) -> int:
        """Apply every execution the journal lacks (the gateway's fill de-duplicates)."""
        return sum(1 for e in got.executions if self._fill(got.order_id, e.qty, e.price, e.exec_id))

    def _other(self, got: VenueOrder, halted: list[str]) -> int:
        """An order at the venue the journal does not hold open."""
        with self._lock:
            known = got.order_id in self._state.book.orders
        if known:  # ours, closed here: take what it did, and stop it if it still works
            fills = self._executions(got)
            if got.open:
                _log.error("venue holds order %d open, the journal has it closed: cancelling",
                           got.order_id)  # fmt: skip
                self._cancel(got.order_id)
            return fills
        if not got.open and not got.executions and got.filled == 0:
            return 0
        _log.error(
            "something traded around the interlock: the venue holds order %d of account %r "
            "(open %s, filled %d) that Interlock never released; halting the account",
            got.order_id, got.account, got.open, got.filled,
        )  # fmt: skip
        reason = (f"reconciliation: venue order {got.order_id} was never released by "
                  "Interlock (something traded around the interlock)")  # fmt: skip
        if got.account:
            self._halt(HaltScope.ACCOUNT, got.account, reason, WHO)
        else:
            self._halt(HaltScope.INSTANCE, self.instance_id, reason, WHO)
        halted.append(got.account or self.instance_id)
        return 0
