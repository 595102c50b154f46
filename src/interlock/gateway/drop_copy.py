"""Drop-copy reconciliation: every execution the venue reports for the firm, on its drop
copy (venue/drop_copy.py), must belong to an order this instance released.

Knight's SMARS had no such comparison (SEC ¶21: nothing compared the orders leaving it
with those entering it). Here each ExecutionReport of the drop copy is matched, off the
order path, against the gateway's book by ClOrdID (41 for a cancel's report, else 11:
Interlock's order id, exactly as venue/fix.py sends it), or by the venue's OrderID (37)
once a report has tied it to one of our orders. The book holds an order from the moment
it is decided (before its journal record is durable, long before it is sent), so an
order whose release is still in flight is already known: its existence needs no grace
period (the one bound, `confirm_within_ms`, is for our own session's report of a fill).
A report is a *break* when:

- foreign: no order of ours has that id (another server trades around the interlock);
- unreleased: it names an order of ours still PENDING, which the venue cannot have yet;
- mismatch: ours, but the report's symbol, side or account differs from the order's;
- overfill: the shares traded on it (CumQty, or the sum of its distinct fills) exceed the
  order's quantity;
- unconfirmed: a fill of ours on the drop copy that the order-entry session has not
  delivered to the gateway (the same ExecID) within `confirm_within_ms`: the venue says we
  traded, our book does not know it. Checked by `tick` (the session calls it every
  TICK_S); off when the setting is None (a venue whose drop copy numbers executions its
  own way).

A break is journaled (`DropCopyBreak`, so the audit shows it and a restart keeps it),
alerted (error level, event `alert.fired`, alert `drop_copy_break`), counted, and halts
the narrowest scope it can be attributed to: the order's account; for a foreign report
its Account (1) if it is one of ours; else (account missing or unknown: the worst case)
this instance, which is the one trading on that venue. A scope already halted is not
halted again (a flood of foreign fills writes one halt, every break is still journaled).
Copies are counted once: a report whose ExecID was seen (this run, or journaled as a
break before a restart) is a duplicate, whatever its PossDup flag says.

The session dropping makes the instance blind, not unsafe: every preventive control is
still on the order path, so trading goes on; the drop is alerted (`drop_copy_down`) and
shown on /health, /metrics and the console until the session is back.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from interlock.domain.enums import HaltScope, OrderStatus
from interlock.domain.events import DropCopyBreak
from interlock.errors import JournalError
from interlock.venue.drop_copy_report import FIX_SIDE, DropCopyReport

if TYPE_CHECKING:
    from interlock.gateway.gateway import Gateway

_log = logging.getLogger(__name__)
WHO = "drop-copy"
"""Who the halts a break sets off are written by."""
_PENDING = OrderStatus.PENDING
RECENT = 20
"""How many of the newest breaks a view carries (the journal keeps every one)."""


@dataclass(frozen=True, slots=True)
class Verdict:
    kind: str
    detail: str
    scope: HaltScope
    target: str


@dataclass(frozen=True, slots=True)
class DropCopyView:
    """What /health, /metrics and the console show of the drop copy."""

    session: str
    state: str  # "up", or "down" (blind: executions are not being compared)
    since_ns: int  # when it went into that state (0: never logged on since the start)
    matched: int
    duplicates: int
    break_count: int
    by_kind: dict[str, int]  # every kind of drop_copy_ledger.KINDS, 0 when none
    recent: tuple[DropCopyBreak, ...]  # the newest RECENT, oldest first


def _our_id(text: str) -> int | None:
    """Interlock's order id from a ClOrdID it could have sent: digits only, or a cancel's
    `<id>-c<n>`; anything else (a prefix, a suffix, a sign) is not ours."""
    head, sep, tail = text.partition("-c")
    if sep and not tail.isdigit():
        return None
    if head.isdigit() and head.isascii():
        return int(head)
    return None


class DropCopyWatch:
    """The matcher for one gateway and one drop-copy session (`name`)."""

    def __init__(self, gateway: Gateway, name: str, confirm_within_ms: int | None = None) -> None:
        self.gw = gateway
        self.name = name
        self.confirm_ms = confirm_within_ms
        # (order id, exec id) -> (deadline ns, the report, the order's account): fills of
        # ours the order-entry session has yet to deliver
        self._unconfirmed: dict[tuple[int, str], tuple[int, DropCopyReport, str]] = {}
        self._lock = threading.Lock()
        self._seen: set[str] = set()  # dedup keys of the reports taken this run
        self._traded: dict[int, int] = {}  # order id -> shares its distinct fills traded
        self._by_venue_id: dict[str, int] = {}  # venue OrderID (37) -> our order id
        self.matched = 0
        self.duplicates = 0
        self.up = False
        self.since_ns = 0

    # -- the session's callbacks ---------------------------------------------------------

    def on_report(self, report: DropCopyReport) -> Verdict | None:
        """Match one report; the break it is, if any (journaled, alerted, halted)."""
        key = report.dedup_key()
        with self._lock:
            if key in self._seen or self._journaled(key):
                self.duplicates += 1
                return None
            self._seen.add(key)
            verdict = self._judge(report)
            if verdict is None:
                self.matched += 1
                return None
        self._break(report, key, verdict)
        return verdict

    def on_status(self, up: bool) -> None:
        """The session logged on (True) or is down (False, or never came up at the start)."""
        with self._lock:
            changed = up != self.up or self.since_ns == 0
            self.up = up
            self.since_ns = self.gw._clock()
        if up:
            _log.warning("drop copy %s up: executions are compared with the journal", self.name)
        elif changed:
            _log.error("alert drop_copy_down fired: drop copy %s is down: executions are not "
                       "being compared (trading goes on, blind to a rogue server)", self.name,
                       extra={"event": "alert.fired", "alert": "drop_copy_down",
                              "halt_scope": ""})  # fmt: skip

    # -- matching ----------------------------------------------------------------------

    def _journaled(self, key: str) -> bool:
        return key in self.gw.state.drop_copy.keys  # a set read: a rogue flood stays O(1)

    def _judge(self, r: DropCopyReport) -> Verdict | None:
        cl = r.orig_cl_ord_id or r.cl_ord_id
        order_id = _our_id(cl) if cl else self._by_venue_id.get(r.venue_order_id)
        order = self.gw.book.orders.get(order_id) if order_id is not None else None
        if order is None:
            return self._foreign(r, cl)
        scope, account = HaltScope.ACCOUNT, order.account
        if order.status is _PENDING:  # the release loop marks it RELEASING before `send`
            return Verdict("unreleased", f"order {order.order_id} is not yet released to the "
                           "venue", scope, account)  # fmt: skip
        wrong = [
            f"{name} {said!r} (the order's is {ours!r})"
            for name, said, ours in (
                ("symbol", r.symbol, order.symbol),
                ("side", r.side, FIX_SIDE[order.side]),
                ("account", r.account, order.account),
            )
            if said and said != ours
        ]
        if wrong:
            return Verdict("mismatch", f"order {order.order_id}: " + ", ".join(wrong),
                           scope, account)  # fmt: skip
        traded = self._traded.get(order.order_id, 0) + (r.last_qty if r.is_trade else 0)
        shown = max(traded, r.cum_qty or 0)
        if shown > order.qty:
            return Verdict("overfill", f"order {order.order_id}: {shown:,} shares traded over "
                           f"its quantity {order.qty:,}", scope, account)  # fmt: skip
        self._traded[order.order_id] = traded
        if r.venue_order_id:
            self._by_venue_id[r.venue_order_id] = order.order_id
        if self.confirm_ms is not None and r.is_trade and r.exec_id:
            seen = (order.order_id, r.exec_id)
            if seen not in self.gw.state.exec_ids:  # the order-entry report may come later
                due = self.gw._clock() + self.confirm_ms * 1_000_000
                self._unconfirmed[seen] = (due, r, order.account)
        return None

    def tick(self) -> list[Verdict]:
        """Break the fills of ours whose order-entry report is overdue; those breaks."""
        if not self._unconfirmed:
            return []
        now, taken = self.gw._clock(), self.gw.state.exec_ids
        overdue: list[tuple[tuple[int, str], DropCopyReport, str]] = []
        with self._lock:
            for seen, (due, r, account) in list(self._unconfirmed.items()):
                if seen in taken:
                    del self._unconfirmed[seen]
                elif due <= now:
                    del self._unconfirmed[seen]
                    overdue.append((seen, r, account))
        verdicts = []
        for (order_id, exec_id), r, account in overdue:
            v = Verdict("unconfirmed", f"order {order_id}: fill {exec_id} of {r.last_qty:,} "
                        f"shares not reported on the order-entry session within "
                        f"{self.confirm_ms:,} ms", HaltScope.ACCOUNT, account)  # fmt: skip
            self._break(r, r.dedup_key(), v)
            verdicts.append(v)
        return verdicts

    def _foreign(self, r: DropCopyReport, cl: str) -> Verdict:
        what = f"ClOrdID {cl!r}" if cl else f"OrderID {r.venue_order_id!r}"
        qty = r.last_qty or r.order_qty or 0
        detail = f"{what} is no order this instance released ({r.side or '?'} {qty:,} " + (
            f"{r.symbol or '?'})"
        )
        if r.account and r.account in self.gw.config.limits.accounts:
            return Verdict("foreign", detail, HaltScope.ACCOUNT, r.account)
        why = f"unknown account {r.account!r}" if r.account else "no account"
        return Verdict("foreign", f"{detail}; {why}: halting the instance",
                       HaltScope.INSTANCE, self.gw.instance_id)  # fmt: skip

    def _break(self, r: DropCopyReport, key: str, v: Verdict) -> None:
        gw = self.gw
        qty = r.last_qty or r.order_qty or 0
        event = DropCopyBreak(gw._clock(), v.kind, key, r.cl_ord_id, r.venue_order_id,
                              r.account, r.symbol, r.side, qty, v.detail, v.scope,
                              v.target)  # fmt: skip
        try:
            gw._record_locked(event)
        except JournalError:  # not durable; the halt below still happens, and is shown
            _log.exception("drop-copy break %s could not be journaled", key)
            with gw._lock:
                gw.state.apply(0, event)
        reason = f"drop copy {self.name}: {v.kind} execution {key}: {v.detail}"
        _log.error("alert drop_copy_break fired: %s", reason,
                   extra={"event": "alert.fired", "alert": "drop_copy_break",
                          "halt_scope": v.scope.value})  # fmt: skip
        with gw._lock:
            halted = gw.halts.get(v.scope, v.target) is not None
        if not halted:
            gw.halt(v.scope, v.target, reason, WHO)

    # -- views ---------------------------------------------------------------------------

    def view(self) -> DropCopyView:
        with self.gw._lock:
            ledger = self.gw.state.drop_copy
            count, by_kind = len(ledger.breaks), dict(ledger.by_kind)
            recent = tuple(ledger.breaks[-RECENT:])
        return DropCopyView(self.name, "up" if self.up else "down", self.since_ns,
                            self.matched, self.duplicates, count, by_kind, recent)  # fmt: skip
