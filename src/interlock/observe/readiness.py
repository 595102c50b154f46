"""The pre-open readiness gate: is it safe to open at 09:30?

On 1 August 2012 SMARS sent 97 "BNET reject ... Power Peg disabled" e-mails between 08:01
and the open; they were not designed as alerts and nobody read them (SEC ¶19). Here every
warning a component raises before the open is an alert: the first one pages the on-call
person at once, and at the open the gate answers "not ready", with the count, the first and
last warning and who raised them, and pages again.

The gate judges; it does not trade. Its verdict joins two kinds of cause: the alerts it
was given (the replay's BNET warnings; in `serve`, every error-level record of the
`interlock` loggers, `error_capture.py`) that no person has acknowledged since `since`,
and the causes a caller found by reading real state (`check(now, causes)`: in serve, the
fleet's attestations, flags, journal, reference prices and venue sessions, gathered by
`gateway/preopen.py`, which also decides what "not ready at the open" does to routing).
"""

from __future__ import annotations

import threading
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

MAX_KEPT_ALERTS = 10_000
"""Alerts kept for the verdict; past it the oldest are dropped (a storm must not eat memory)."""
CHECKS = ("members", "flags", "journal", "reference", "venue", "errors")
"""Every cause's `check`, in the order a verdict lists them."""


@dataclass(frozen=True, slots=True)
class Alert:
    ts: int
    source: str
    text: str


@dataclass(frozen=True, slots=True)
class Page:
    ts: int
    to: str
    text: str


@dataclass(frozen=True, slots=True)
class Cause:
    """One reason the gate is not ready: which check (one of CHECKS) and what it found."""

    check: str
    text: str

    def line(self) -> str:
        return f"{self.check}: {self.text}"


@dataclass(frozen=True, slots=True)
class Readiness:
    ready: bool
    at: int
    warnings: int  # unacknowledged alerts counted (since `since`, up to `at`)
    first: Alert | None
    last: Alert | None
    sources: tuple[tuple[str, int], ...]  # (source, warnings), most first
    causes: tuple[Cause, ...] = ()  # every cause, in CHECKS order; empty when ready

    def summary(self) -> str:
        if self.ready:
            return "READY: no warnings before the open"
        return "NOT READY: " + "; ".join(c.text for c in self.causes)


Pager = Callable[[Page], None]


class PreOpenGate:
    """Alerts in, a verdict out. Thread-safe: alerts arrive from any thread (a logging
    handler), verdicts are asked for by a watch thread and the admin listener."""

    def __init__(
        self,
        pager: Pager,
        on_call: str = "trading-ops on-call",
        *,
        what: str = "warning(s) before the open",
    ) -> None:
        """`what` names the alerts in the verdict's cause ("97 warning(s) before the open
        from gw-8 (97)")."""
        self.pager = pager
        self.on_call = on_call
        self.what = what
        self.since = 0  # alerts before it (UTC ns) do not count
        self.alerts: deque[Alert] = deque(maxlen=MAX_KEPT_ALERTS)
        self.pages: deque[Page] = deque(maxlen=MAX_KEPT_ALERTS)
        self._acked_upto = -1  # alerts at or before this ts were acknowledged by a person
        self._lock = threading.Lock()

    def warn(self, ts: int, source: str, text: str) -> None:
        """A warning; the first one no person has acknowledged pages at once."""
        with self._lock:
            first = not self._pending(ts)
            self.alerts.append(Alert(ts, source, text))
        if first:
            self._page(ts, f"pre-open warning from {source}: {text}")

    def acknowledge(self, now: int) -> int:
        """A person has read every alert up to `now`: they no longer count. How many."""
        with self._lock:
            n = len(self._pending(now))
            self._acked_upto = max(self._acked_upto, now)
        return n

    def check(self, now: int, causes: Iterable[Cause] = (), *, page: bool = True) -> Readiness:
        """The verdict at `now`: `causes` found elsewhere plus the unacknowledged alerts.
        Not ready pages with the summary unless `page` is False (a periodic look)."""
        with self._lock:
            alerts = self._pending(now)
        sources = tuple(Counter(a.source for a in alerts).most_common())
        found = list(causes)
        if alerts:
            who = ", ".join(f"{s} ({n})" for s, n in sources)
            found.append(Cause("errors", f"{len(alerts)} {self.what} from {who}"))
        found.sort(key=lambda c: CHECKS.index(c.check) if c.check in CHECKS else len(CHECKS))
        verdict = Readiness(not found, now, len(alerts), alerts[0] if alerts else None,
                            alerts[-1] if alerts else None, sources, tuple(found))  # fmt: skip
        if page and not verdict.ready:
            self._page(now, verdict.summary())
        return verdict

    def page(self, ts: int, text: str) -> None:
        """Page the on-call person with `text` (the caller decides when)."""
        self._page(ts, text)

    def _pending(self, now: int) -> list[Alert]:
        """Alerts since `since`, up to `now`, that no person acknowledged (under the lock)."""
        lo = max(self.since, self._acked_upto + 1)
        return [a for a in self.alerts if lo <= a.ts <= now]

    def _page(self, ts: int, text: str) -> None:
        page = Page(ts, self.on_call, text)
        self.pages.append(page)
        self.pager(page)
