"""The pre-open readiness gate: is it safe to open at 09:30?

On 1 August 2012 SMARS sent 97 "BNET reject ... Power Peg disabled" e-mails between 08:01
and the open; they were not designed as alerts and nobody read them (SEC ¶19). Here every
warning a component raises before the open is an alert: the first one pages the on-call
person at once, and at the open the gate answers "not ready", with the count, the first and
last warning and who raised them, and pages again. It answers; it does not trade or halt:
whether to open anyway is a person's decision, recorded by the page.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass


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
class Readiness:
    ready: bool
    at: int
    warnings: int
    first: Alert | None
    last: Alert | None
    sources: tuple[tuple[str, int], ...]  # (source, warnings), most first

    def summary(self) -> str:
        if self.ready:
            return "READY: no warnings before the open"
        who = ", ".join(f"{s} ({n})" for s, n in self.sources)
        return f"NOT READY: {self.warnings} warning(s) before the open from {who}"


Pager = Callable[[Page], None]


class PreOpenGate:
    def __init__(self, pager: Pager, on_call: str = "trading-ops on-call") -> None:
        self.pager = pager
        self.on_call = on_call
        self.alerts: list[Alert] = []
        self.pages: list[Page] = []

    def warn(self, ts: int, source: str, text: str) -> None:
        """A warning before the open; the first one pages at once."""
        alert = Alert(ts, source, text)
        self.alerts.append(alert)
        if len(self.alerts) == 1:
            self._page(ts, f"pre-open warning from {source}: {text}")

    def check(self, now: int) -> Readiness:
        """The verdict at `now` (the open); not ready pages with the summary."""
        alerts = [a for a in self.alerts if a.ts <= now]
        sources = tuple(Counter(a.source for a in alerts).most_common())
        verdict = Readiness(not alerts, now, len(alerts), alerts[0] if alerts else None,
                            alerts[-1] if alerts else None, sources)  # fmt: skip
        if not verdict.ready:
            self._page(now, verdict.summary())
        return verdict

    def _page(self, ts: int, text: str) -> None:
        page = Page(ts, self.on_call, text)
        self.pages.append(page)
        self.pager(page)
