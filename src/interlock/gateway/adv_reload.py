"""The ADV file (`limits.adv.file`) loaded at start, before each day's pre-open and on
demand (admin `POST /adv/reload`), without a restart.

A load reads and parses the whole file off the lock (risk/adv_file.py), then, under the
gateway lock and between two decisions, journals it as `AdvLoaded` (when its digest is
not the one in force) and applies it through the state's one `apply`: the book's
`adv_max_qty` is recomputed there. A restart folds the journaled figures back, so every
decision replays against the figures it was judged with, whatever the file holds now;
then the start reads the file again and journals it if it changed. A bad file is refused
whole (ConfigError, CONFIG_INVALID, file and line) and the figures in force stay; the
refusal is logged at error level as event `adv.refused` (an alert). A stale file (as_of
over `max_age_days`) is refused too; while the figures in force are stale ADV_LIMIT
refuses every order, saying so. At start a bad file fails the start; a stale one does not
(the check then fails closed until a fresh file is loaded).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from interlock.domain.clock import Clock
from interlock.domain.events import AdvLoaded, Event
from interlock.errors import ConfigError
from interlock.risk.adv_file import parse_adv, stale_days
from interlock.risk.book import Book

_log = logging.getLogger(__name__)


class AdvStale(ConfigError):
    """The file parses but its as_of is too old: refused, yet not a bad config."""


@dataclass(frozen=True, slots=True)
class AdvStatus:
    """The ADV file's figures in force: what `GET /adv` shows (empty: none loaded)."""

    file: str
    as_of: str
    count: int
    digest: str
    loaded_at: int  # ns, when the load was journaled (0: never)
    stale: str  # why the figures are stale ("": fresh)


class AdvReload:
    """Loads the file and holds what is in force (see the module doc)."""

    def __init__(
        self,
        book: Book,
        path: Path | None,
        *,
        lock: threading.Lock,
        record: Callable[[Event], int],
        clock: Clock,
    ) -> None:
        """`path` None: no file configured (every method does nothing); `record` journals
        and applies, under `lock`."""
        self.book = book
        self.path = path
        self._lock = lock
        self._record = record
        self._clock = clock
        self._max_age = book.limits.adv.max_age_days
        self._as_of: date | None = None
        self._digest = ""
        self._loaded_at = 0
        self._reloaded_day: date | None = None

    def handlers(self) -> dict[type, Callable[[int, Event], None]]:
        return {AdvLoaded: self._apply}  # type: ignore[dict-item]

    def _apply(self, seq: int, ev: AdvLoaded) -> None:
        self._as_of = date.fromisoformat(ev.as_of)
        self._digest = ev.digest
        self._loaded_at = ev.ts
        self.book.apply_adv(ev.figures, self._stale_note(self._clock()))

    def _stale_note(self, now: int) -> str:
        if self.path is None:
            return ""
        if self._as_of is None:
            return f"no fresh ADV file loaded from {self.path}"
        today = self.book.calendar.local_date(now)
        if stale_days(self._as_of, today, self._max_age) == 0:
            return ""
        age = (today - self._as_of).days
        return f"as_of {self._as_of} is {age} days old, over max_age_days {self._max_age}"

    def status(self) -> AdvStatus:
        """What is in force now (takes the gateway lock)."""
        with self._lock:
            return self._status()

    def _status(self) -> AdvStatus:
        return AdvStatus(str(self.path or ""), "" if self._as_of is None else str(self._as_of),
                         len(self.book.adv_figures), self._digest, self._loaded_at,
                         self.book.adv_stale)  # fmt: skip

    def reload(self, who: str) -> AdvStatus:
        """Read, parse and journal the file (a new digest only); ConfigError if it is bad
        or stale, the figures in force then unchanged. The alert is logged here."""
        try:
            return self._load(who)
        except ConfigError as e:
            _log.error("ADV file refused (%s), the figures in force stay: %s", who, e,
                       extra={"event": "adv.refused", "file": str(self.path)})  # fmt: skip
            raise

    def _load(self, who: str) -> AdvStatus:
        if self.path is None:
            raise ConfigError("limits.adv.file is not set: there is no ADV file to load")
        try:
            text = self.path.read_text()
        except OSError as e:
            raise ConfigError(f"{self.path}: cannot read: {e.strerror}") from None
        parsed = parse_adv(text, str(self.path), self.book.instruments)
        now = self._clock()
        today = self.book.calendar.local_date(now)
        if stale_days(parsed.as_of, today, self._max_age):
            raise AdvStale(
                f"{self.path}:1: as_of {parsed.as_of} is {(today - parsed.as_of).days} days "
                f"old, over limits.adv.max_age_days {self._max_age}: stale"
            )
        with self._lock:
            if parsed.digest != self._digest:
                self._record(AdvLoaded(now, parsed.as_of.isoformat(), parsed.digest,
                                       parsed.figures))  # fmt: skip
                _log.info("ADV file %s loaded (%s): as_of %s, %d figure(s), digest %s",
                          self.path, who, parsed.as_of, len(parsed.figures), parsed.digest,
                          extra={"event": "adv.loaded"})  # fmt: skip
            return self._status()

    def at_start(self) -> None:
        """After the fold, before any trading: load the file; a bad file raises (the start
        fails), a stale one leaves the check failing closed until a fresh one loads."""
        if self.path is None:
            return
        now = self._clock()
        with self._lock:
            self.book.apply_adv(self.book.adv_figures, self._stale_note(now))
        with contextlib.suppress(AdvStale):  # logged; the check fails closed meanwhile
            self.reload("start")
        self._reloaded_day = self._due_day(now)

    def _due_day(self, now: int) -> date | None:
        """Today, if its pre-open has begun by `now` (the daily load is then due or done)."""
        cal = self.book.calendar
        if cal.always_open:
            return None
        today = cal.local_date(now)
        sessions = cal.day(today).sessions
        return today if sessions is not None and now >= sessions[0] else None

    def tick(self, now: int | None = None) -> None:
        """From a periodic look (the pre-open watch): load once per trading day when its
        pre-open begins, and mark the figures stale as the days pass. Off the order path."""
        if self.path is None:
            return
        now = self._clock() if now is None else now
        with self._lock:
            note = self._stale_note(now)
            if note != self.book.adv_stale:
                self.book.apply_adv(self.book.adv_figures, note)
        day = self._due_day(now)
        if day is None or day == self._reloaded_day:
            return
        self._reloaded_day = day
        with contextlib.suppress(ConfigError):  # logged as an alert; the figures stay
            self.reload("daily")
