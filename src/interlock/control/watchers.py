"""The subscribers of one control plane, and how events reach them: in order, each watcher
in turn, a watcher that raises logged and skipped (one broken watcher must not keep a halt
from the others). Both backends deliver through this: the embedded plane from the caller's
thread after a change, the etcd plane from its watch thread."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable

from interlock.control.plane import ControlEvent, Watcher

_log = logging.getLogger(__name__)


class Watchers:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._watchers: list[Watcher] = []

    def add(self, watcher: Watcher) -> Callable[[], None]:
        """Subscribe `watcher`; returns the function that unsubscribes it."""
        with self._lock:
            self._watchers.append(watcher)

        def unsubscribe() -> None:
            with self._lock:
                if watcher in self._watchers:
                    self._watchers.remove(watcher)

        return unsubscribe

    def emit(self, events: Iterable[ControlEvent]) -> None:
        """Deliver `events` in order to the watchers subscribed now (call outside any lock
        a watcher might take: watchers may call back into the plane)."""
        with self._lock:
            watchers = list(self._watchers)
        for event in events:
            for w in watchers:
                try:
                    w(event)
                except Exception:
                    _log.exception("control-plane watcher failed on %s", type(event).__name__)
