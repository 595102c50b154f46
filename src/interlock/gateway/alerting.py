"""The alert rules (observe/alerts.py) run against this gateway on a timer.

`AlertLoop.tick` samples the gateway's counters, keeps the samples of the last
`alerts.window_ms`, and evaluates the rules between the oldest of them and now. A rule
fires once when it starts to hold (not on every tick while it holds): it is logged at
error level as event `alert.fired`, and a rule with a `halt_scope` halts that scope through
the kill switch (`Gateway.halt`: written to the control plane, confirmed by every member),
by `alert:<rule>`. `interlock serve` starts the loop (api/service.py).
"""

from __future__ import annotations

import logging
import threading
from collections import deque

from interlock.domain.reject import RejectCode
from interlock.gateway.gateway import Gateway
from interlock.observe.alerts import AlertsConfig, Firing, Sample, evaluate

_log = logging.getLogger(__name__)


class AlertLoop:
    def __init__(self, gateway: Gateway, config: AlertsConfig | None = None) -> None:
        self.gw = gateway
        self.config = config or gateway.config.alerts
        self._samples: deque[Sample] = deque()
        self._holding: set[str] = set()
        self.fired: list[Firing] = []  # every firing so far, in order
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def sample(self) -> Sample:
        gw = self.gw
        counts = gw.stats.by_code
        decided = sum(counts.values())
        accepted = counts[None]
        refused = decided - accepted - counts[RejectCode.HALTED]  # a halt is not a spike
        now = gw._clock()
        deadline = gw.gate.lease_deadline
        ttl = gw.config.lease_ttl_ms * 1_000_000
        trips = sum(1 for t, _ in gw.trip_reports if t.detector == "repeated_child")
        journal = gw.journal
        lease_age = ttl if deadline == 0 else ttl - (deadline - now)
        lag = max(0, journal.last_seq - journal.durable_seq)
        return Sample(now, decided, refused, accepted, gw.stats.fills, trips, lease_age, lag,
                      journal.available)  # fmt: skip

    def tick(self) -> list[Firing]:
        """Sample, evaluate, and act on the rules that started to hold; those rules."""
        new = self.sample()
        samples = self._samples
        samples.append(new)
        edge = new.ts - self.config.window_ms * 1_000_000
        while len(samples) > 1 and samples[1].ts <= edge:
            samples.popleft()
        holding = evaluate(self.config, samples[0], new)
        started = [f for f in holding if f.alert not in self._holding]
        self._holding = {f.alert for f in holding}
        for firing in started:
            try:
                self._fire(firing)
            except Exception:  # its halt failed: not holding, so the next tick tries again
                self._holding.discard(firing.alert)
                _log.exception("alert %s: acting on it failed", firing.alert)
        return started

    def _fire(self, firing: Firing) -> None:
        rule = getattr(self.config, firing.alert)
        scope = rule.halt_scope
        _log.error("alert %s fired: %s", firing.alert, firing.reason,
                   extra={"event": "alert.fired", "alert": firing.alert,
                          "halt_scope": "" if scope is None else scope.value})  # fmt: skip
        self.fired.append(firing)
        if scope is not None:
            target = self.gw.instance_id if scope.value == "instance" else rule.halt_target
            self.gw.halt(scope, target, f"alert {firing.alert}: {firing.reason}",
                         f"alert:{firing.alert}")  # fmt: skip

    def start(self) -> AlertLoop:
        """Take the window's first sample now, then tick every `interval_ms`.

        The first sample is taken here, before serve opens its ports, so orders decided
        before the first tick still count in the window: a burst of refusals in the first
        interval would otherwise sit in the baseline and never fire."""
        if not self._samples:
            self._samples.append(self.sample())

        def run() -> None:
            while not self._stop.wait(self.config.interval_ms / 1_000):
                try:
                    self.tick()
                except Exception:  # a failing rule must not stop the others next time
                    _log.exception("alert evaluation failed")

        self._thread = threading.Thread(target=run, name="alerts", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
