"""What the dashboard shows, built off the order path from what the gateway already keeps.

Release, members and halts come from the fleet view the admin `/fleet` route answers;
positions and reservations from `Gateway.positions()` (one short hold of the gateway
lock), their limits from each account's compiled risk; order and reject rates from the
journal's `OrderDecided` records, tailed incrementally (`DecisionTail`), so the hot path
counts nothing for the dashboard. `readiness` holds the gate's state as `/health` reports
it and the pre-open gate's latest look (`preopen`: ready, blocked, every cause), the same
view `/health` and `/preopen` answer (api/readiness_view.py). `limit_changes` lists the
raises waiting for a second risk principal (gateway/limit_changes.py).
"""

from __future__ import annotations

import threading
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from interlock.api.admin.models import FleetView
from interlock.api.dashboard.drop_copy import drop_copy_snapshot
from interlock.api.readiness_view import readiness_view
from interlock.domain.events import OrderDecided
from interlock.errors import JournalError
from interlock.gateway.gateway import Gateway

WINDOW_NS = 60 * 1_000_000_000
"""Rates are counted over the last minute."""

ACCEPTED = "ACCEPTED"


@dataclass(frozen=True)
class Line:
    """One account and symbol: position and open reservations against the position limit."""

    account: str
    symbol: str
    position: int
    open_buy: int
    open_sell: int
    limit: int

    @property
    def worst(self) -> int:
        """The worst case in shares, long or short, with every open order filled."""
        return max(abs(self.position + self.open_buy), abs(self.position - self.open_sell))

    @property
    def utilisation_pct(self) -> int:
        return min(100, self.worst * 100 // self.limit) if self.limit > 0 else 100


class DecisionTail:
    """The last minute's decisions by code, read from the journal after the last seq seen.

    One lock, held only by the dashboard's readers; the journal's `read` is its own.
    """

    def __init__(self, gateway: Gateway) -> None:
        self._gateway = gateway
        self._seq = 0
        self._seen: deque[tuple[int, str]] = deque()
        self._lock = threading.Lock()
        self.error = ""

    def rates(self, now: int) -> dict[str, int]:
        """Decisions per code inside the last minute ('ACCEPTED' for accepted orders).
        A journal that cannot be read now leaves the counts as last read; `error` says why."""
        with self._lock:
            self.error = ""
            try:
                for seq, event in self._gateway.journal.read(self._seq):
                    self._seq = seq
                    if isinstance(event, OrderDecided):
                        self._seen.append((event.ts, event.code or ACCEPTED))
            except JournalError as exc:
                self.error = str(exc)[:200]
            while self._seen and self._seen[0][0] <= now - WINDOW_NS:
                self._seen.popleft()
            return dict(sorted(Counter(code for _, code in self._seen).items()))


def lines(gateway: Gateway) -> list[Line]:
    """Every non-flat line with its position limit."""
    out = []
    for account, symbol, pos, buy, sell in gateway.positions():
        acct = gateway.book.accounts.get(account)
        limit = acct.risk.position_limit(symbol) if acct is not None else 0
        out.append(Line(account, symbol, pos, buy, sell, limit))
    return out


def halts(gateway: Gateway, live: int) -> list[dict[str, Any]]:
    """Each halt in force with how many members confirmed it, as the plane holds them."""
    plane = gateway.fleet.plane
    return [
        {"scope": h.scope.value, "target": h.target, "reason": h.reason, "who": h.who,
         "ts_ns": h.ts, "confirmed": len(plane.halt_confirmations(h)), "members": live}
        for h in gateway.halts_in_force()
    ]  # fmt: skip


def pending_limit_changes(gateway: Gateway) -> list[dict[str, Any]]:
    """Each raise waiting for a second risk principal: what it would change, who asked."""
    return [
        {"change_id": c.change_id, "proposer": c.proposer, "reason": c.reason,
         "expires_ns": c.expires_ts, "items": [f"{i.path} {i.old} -> {i.new}" for i in c.items]}
        for c in gateway.limit_changes.pending()
    ]  # fmt: skip


def build_snapshot(
    gateway: Gateway, fleet: Callable[[], FleetView], tail: DecisionTail
) -> dict[str, Any]:
    """The page's data, JSON-able: fleet, halts, pending limit changes, lines, rates,
    trips and readiness."""
    view = fleet()
    health = gateway.health()
    now = gateway.fleet_snapshot().now
    return {
        "fleet": view.model_dump(),
        "lines": [
            {
                "account": x.account,
                "symbol": x.symbol,
                "position": x.position,
                "open_buy": x.open_buy,
                "open_sell": x.open_sell,
                "limit": x.limit,
                "worst": x.worst,
                "utilisation_pct": x.utilisation_pct,
            }
            for x in lines(gateway)
        ],
        "halts": halts(gateway, len(view.members)),
        "limit_changes": pending_limit_changes(gateway),
        "rates": tail.rates(now),
        "rates_error": tail.error,
        "trips": [
            {
                "detector": t.detector,
                "scope": t.scope.value,
                "target": t.target,
                "reason": t.reason,
                "ts_ns": t.ts,
                "report": str(r),
            }
            for t, r in gateway.trip_reports
        ],
        "drop_copy": drop_copy_snapshot(gateway),
        "readiness": {
            "preopen": readiness_view(gateway, gateway.preopen.verdict).model_dump(),
            "gate": health.gate,
            "journal": health.journal,
            "journal_failure": health.journal_failure,
            "durable_seq": health.durable_seq,
            "lease_left_ms": (health.lease_expires_ns - now) // 1_000_000,
        },
    }
