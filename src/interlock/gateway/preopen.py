"""The instance's side of the pre-open readiness gate: read real state, judge, block.

Every `check_interval_ms` a thread of its own (`start`) gathers the causes from the
instance's own state and hands them to the gate (`observe/readiness.py`):

    members    every expected member (the release's, else the live ones) is live and
               attests the release's build and config
    flags      every live member attests the release's flag manifest, and the flag
               registry refuses none of them
    journal    the journal can make records durable (`journal_status.py`)
    reference  every instrument has a reference price younger than the collar's bound
    venue      the venue session is logged on (the simulated venue always is)
    errors     no error-level event since `preopen.since` that a person has not
               acknowledged (`observe/error_capture.py` feeds them)

At the calendar's open of each trading day it judges once: not ready pages the on-call
person with every cause and, with `preopen.block_at_open`, sets `refusal`, which the order
path's `readiness` stage returns (one attribute read: nothing when ready). The block lasts
until a person acknowledges (`acknowledge`, journaled as `ReadinessAcknowledged`: who,
when, which causes) or, with `preopen.until = "clear"`, until a look finds no cause.
Cancels and halts never pass the order path, so they are never blocked. Before the open a
check that starts failing pages at once, so nobody learns of it at 09:30.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from interlock.control.attestation import short
from interlock.control.plane import Member, Release
from interlock.domain.clock import Clock
from interlock.domain.events import Event, ReadinessAcknowledged
from interlock.domain.reject import RejectCode, Rejection, reject
from interlock.gateway.preopen_config import PreOpenConfig
from interlock.observe.readiness import Cause, Page, Pager, PreOpenGate, Readiness
from interlock.observe.webhook import WebhookPager
from interlock.risk.calendar import TradingCalendar, utc_ns

_log = logging.getLogger(__name__)
NS_PER_MS = 1_000_000


@dataclass(frozen=True, slots=True)
class Observed:
    """What one look at the instance found (gathered by the gateway, judged here)."""

    release: Release | None  # None: the control plane could not be read
    members: tuple[Member, ...]
    journal_refusal: str  # "" when the journal is available
    reference_ts: Mapping[str, int]  # symbol -> when its reference price was observed (ns)
    symbols: tuple[str, ...]
    venue_logged_on: bool
    venue: str  # what the venue is, for the cause's text


def fleet_causes(release: Release | None, members: tuple[Member, ...]) -> list[Cause]:
    """Members not attested on the release, and flags that differ across members."""
    if release is None:
        return [Cause("members", "the control plane cannot be read: attestations unknown")]
    live = {m.instance_id: m for m in members}
    expected = release.members or tuple(sorted(live))
    causes: list[Cause] = []
    for name in expected:
        m = live.get(name)
        if m is None:
            causes.append(Cause("members", f"{name} is expected on the release but not live"))
            continue
        a = m.attestation
        if release.build_digest and a.build_digest != release.build_digest:
            causes.append(
                Cause(
                    "members",
                    f"{name} runs build {short(a.build_digest)}, not "
                    f"the release's {short(release.build_digest)}",
                )
            )
        elif release.config_digest and a.config_digest != release.config_digest:
            causes.append(
                Cause(
                    "members",
                    f"{name} runs config {short(a.config_digest)}, not "
                    f"the release's {short(release.config_digest)}",
                )
            )
    for name, m in sorted(live.items()):
        a = m.attestation
        if release.flag_digest and a.flag_digest != release.flag_digest:
            causes.append(
                Cause(
                    "flags",
                    f"{name} declares flags {short(a.flag_digest)}, not "
                    f"the release's {short(release.flag_digest)}",
                )
            )
        elif m.flag_refusal:
            causes.append(Cause("flags", f"{name}: {m.flag_refusal}"))
    if not release.flag_digest:
        digests = {m.attestation.flag_digest for m in live.values()}
        if len(digests) > 1:
            causes.append(
                Cause(
                    "flags",
                    "members declare different flag manifests: "
                    + ", ".join(sorted(short(d) for d in digests)),
                )
            )
    return causes


def state_causes(seen: Observed, now: int, max_age_ms: int) -> list[Cause]:
    """The journal, reference prices and venue session, as `seen` at `now`."""
    causes = fleet_causes(seen.release, seen.members)
    if seen.journal_refusal:
        causes.append(Cause("journal", seen.journal_refusal))
    stale = [
        s
        for s in seen.symbols
        if now - seen.reference_ts.get(s, -(1 << 62)) > max_age_ms * NS_PER_MS
    ]
    if stale:
        shown = ", ".join(stale[:5]) + (f" and {len(stale) - 5} more" if len(stale) > 5 else "")
        causes.append(
            Cause(
                "reference",
                f"{len(stale)} symbol(s) without a reference price "
                f"younger than {max_age_ms} ms: {shown}",
            )
        )
    if not seen.venue_logged_on:
        causes.append(Cause("venue", f"venue session {seen.venue} is not logged on"))
    return causes


def preopen_gate(config: PreOpenConfig, source: str = "interlock") -> PreOpenGate:
    """The gate `config` describes: every page logged at warning level and, with a
    `webhook_url`, POSTed there (retried, off the order path: `observe/webhook.py`)."""
    webhook = None
    if config.webhook_url is not None:
        webhook = WebhookPager(
            config.webhook_url,
            source=source,
            retries=config.webhook_retries,
            timeout_s=config.webhook_timeout_ms / 1_000,
        )

    def page(p: Page) -> None:
        _log.warning("PAGE to %s: %s", p.to, p.text)
        if webhook is not None:
            webhook(p)

    pager: Pager = page
    return PreOpenGate(
        pager, config.on_call, what=f"unacknowledged error-level event(s) since {config.since}"
    )


@dataclass(frozen=True, slots=True)
class Acknowledged:
    """A person's acknowledgement: who, when, what it cleared, whether it lifted a block."""

    who: str
    ts: int
    causes: tuple[str, ...]
    alerts: int
    lifted: bool
    seq: int


class PreOpenWatch:
    """Judges readiness for one instance and holds its block (see the module doc)."""

    def __init__(
        self,
        instance_id: str,
        config: PreOpenConfig,
        calendar: TradingCalendar,
        gate: PreOpenGate,
        *,
        observe: Callable[[], Observed],
        max_age_ms: int,
        record: Callable[[Event], int],
        clock: Clock,
        tick: Callable[[int], None] | None = None,
    ) -> None:
        """`observe()` gathers the state; `record(event)` journals (it takes the lock);
        `tick(now)` runs first in every look (the daily ADV file load: adv_reload.py)."""
        self.instance_id = instance_id
        self.config = config
        self.calendar = calendar
        self.gate = gate
        self._observe = observe
        self._max_age_ms = max_age_ms
        self._record = record
        self._clock = clock
        self._tick = tick
        self.refusal: Rejection | None = None  # the order path's answer; None: not blocked
        self.verdict: Readiness | None = None  # the latest look
        self.blocked_since = 0
        self._judged_day = ""  # local date of the last open judged
        self._failing: frozenset[str] = frozenset()  # checks failing at the last look
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def open_at(self, now: int) -> int | None:
        """Today's open (UTC ns) on the calendar, or None: no trading today, or no open."""
        if self.calendar.always_open:
            return None
        day = self.calendar.day(self.calendar.local_date(now))
        return None if day.sessions is None else day.sessions[2]

    def look(self, now: int | None = None) -> Readiness:
        """Gather, judge, and act: page new failures, judge the open, lift a cleared block."""
        now = self._clock() if now is None else now
        if self._tick is not None:
            self._tick(now)
        if not self.calendar.always_open:
            today = self.calendar.local_date(now)
            self.gate.since = utc_ns(today, self.config.since, self.calendar.zone)
        causes = state_causes(self._observe(), now, self._max_age_ms)
        verdict = self.gate.check(now, causes, page=False)
        with self._lock:
            self.verdict = verdict
            failing = frozenset(c.check for c in verdict.causes)
            new = failing - self._failing - {"errors"}  # the first alert paged already
            self._failing = failing
            open_at = self.open_at(now)
            day = self.calendar.local_date(now).isoformat()
            at_open = open_at is not None and now >= open_at and self._judged_day != day
            if at_open:
                self._judged_day = day
                if not verdict.ready and self.config.block_at_open:
                    self._block(verdict, now)
            lift = self.refusal is not None and verdict.ready and self.config.until == "clear"
            if lift:
                self.refusal = None
                self.blocked_since = 0
        if at_open and not verdict.ready:
            self.gate.page(now, f"{self.instance_id} at the open: {verdict.summary()}")
        elif new:
            lines = "; ".join(c.line() for c in verdict.causes if c.check in new)
            self.gate.page(now, f"{self.instance_id} not ready: {lines}")
        if at_open:
            log = _log.warning if not verdict.ready else _log.info  # an error would be an alert
            log("instance %s at the open: %s", self.instance_id, verdict.summary())
        if lift:
            _log.warning("instance %s: readiness causes cleared, routing again", self.instance_id)
        return verdict

    def _block(self, verdict: Readiness, now: int) -> None:
        """Set the order path's refusal (under `_lock`)."""
        local = datetime.fromtimestamp(now / 1e9, self.calendar.zone).strftime("%H:%M:%S")
        until = (
            "a person's acknowledgement"
            if self.config.until == "ack"
            else "a person's acknowledgement or the causes clearing"
        )
        causes = "; ".join(c.line() for c in verdict.causes)
        self.refusal = reject(
            RejectCode.NOT_READY,
            f"not ready at the open {local} {self.calendar.zone.key}: {causes}; routing "
            f"waits for {until}",
            limit="ready at the open",
            attempted=f"{len(verdict.causes)} cause(s)",
        )
        self.blocked_since = now

    def acknowledge(self, who: str) -> Acknowledged:
        """A person opens anyway: acknowledge every alert so far, lift any block, journal
        who, when and the causes they saw."""
        now = self._clock()
        seen = self.look(now)
        alerts = self.gate.acknowledge(now)
        causes = tuple(c.line() for c in seen.causes)
        seq = self._record(ReadinessAcknowledged(now, who, causes, alerts))
        with self._lock:
            lifted = self.refusal is not None
            self.refusal = None
            self.blocked_since = 0
        _log.warning(
            "instance %s: pre-open readiness acknowledged by %s over %d cause(s)%s",
            self.instance_id,
            who,
            len(causes),
            ", routing unblocked" if lifted else "",
        )
        self.look()
        return Acknowledged(who, now, causes, alerts, lifted, seq)

    def start(self) -> PreOpenWatch:
        """Look now, then every `check_interval_ms` on a daemon thread until `stop`."""
        self.look()
        self._thread = threading.Thread(
            target=self._run, name=f"preopen-{self.instance_id}", daemon=True
        )
        self._thread.start()
        return self

    def _run(self) -> None:
        interval = self.config.check_interval_ms / 1_000
        while not self._stop.wait(interval):
            try:
                self.look()
            except Exception:  # the watch must outlive one bad look; say so, once a look
                _log.exception("instance %s: readiness look failed", self.instance_id)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5.0)
