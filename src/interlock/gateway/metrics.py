"""The instance's Prometheus metrics, read from its state at scrape time.

One `CollectorRegistry` per gateway (never the process-wide default: tests and the demo
build many gateways in one process). The order path counts only what it must
(`Gateway.stats`: decisions by code, decide latency); everything else is read here, when
`/metrics` is scraped: positions and their utilisation, the rate windows, halts, fleet
members and lease ages, monitor trips, the journal's lag and commit latency. Book reads
take the gateway lock briefly (the windows are deques the order path appends to).

Every metric name is in `METRIC_NAMES`; the shipped rules file may name no other
(tests/api/test_metrics.py), and docs/operations.md lists them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from interlock.domain.latency import LatencyHistogram
from interlock.risk.exposure import worst_case

if TYPE_CHECKING:
    from interlock.gateway.gateway import Gateway

METRIC_NAMES: frozenset[str] = frozenset({
    "interlock_decisions_total",
    "interlock_decide_seconds",
    "interlock_fills_total",
    "interlock_journal_commit_seconds",
    "interlock_journal_lag_records",
    "interlock_journal_available",
    "interlock_rate_window_utilisation",
    "interlock_position_shares",
    "interlock_position_utilisation",
    "interlock_halts",
    "interlock_members",
    "interlock_member_lease_age_seconds",
    "interlock_lease_age_seconds",
    "interlock_monitor_trips_total",
    "interlock_drop_copy_up",
    "interlock_drop_copy_breaks_total",
    "interlock_drop_copy_reports_total",
})  # fmt: skip
"""Every family `/metrics` exports (names without the `_total`/`_bucket` sample suffixes,
except where the family name itself ends `_total`)."""


def _histogram(name: str, doc: str, h: LatencyHistogram, instance: str) -> HistogramMetricFamily:
    fam = HistogramMetricFamily(name, doc, labels=["instance"])
    buckets = [(("+Inf" if b == float("inf") else repr(b)), n) for b, n in h.cumulative()]
    fam.add_metric([instance], buckets, h.sum_ns / 1e9)
    return fam


class GatewayCollector(Collector):
    """Reads one gateway's state on each scrape."""

    def __init__(self, gateway: Gateway) -> None:
        self.gw = gateway

    def collect(self) -> Iterator[Metric]:
        gw, inst = self.gw, self.gw.instance_id
        decisions = CounterMetricFamily("interlock_decisions", "Decisions made, by code "
                                        "(accepted or the reject code)",
                                        labels=["instance", "code"])  # fmt: skip
        for code, n in gw.stats.counts().items():
            decisions.add_metric([inst, code], n)
        yield decisions
        yield _histogram("interlock_decide_seconds", "Time to decide one order (submit, "
                         "under the gateway lock)", gw.stats.decide, inst)  # fmt: skip
        fills = CounterMetricFamily("interlock_fills", "Executions applied", labels=["instance"])
        fills.add_metric([inst], gw.stats.fills)
        yield fills
        yield from self._journal()
        yield from self._book()
        yield from self._fleet()
        yield from self._drop_copy()

    def _drop_copy(self) -> Iterator[Metric]:
        """The drop copy's families; without samples when none is configured (the family
        is still there, so one rules file fits every instance)."""
        inst, watch = self.gw.instance_id, self.gw.drop_copy
        up = GaugeMetricFamily("interlock_drop_copy_up", "1 while the venue's drop copy is "
                               "logged on, 0 while blind", labels=["instance"])  # fmt: skip
        breaks = CounterMetricFamily("interlock_drop_copy_breaks", "Drop-copy reports that "
                                     "matched no order released here, by kind (each halts)",
                                     labels=["instance", "kind"])  # fmt: skip
        reports = CounterMetricFamily("interlock_drop_copy_reports", "Drop-copy reports taken, "
                                      "by outcome", labels=["instance", "outcome"])  # fmt: skip
        if watch is not None:
            view = watch.view()
            up.add_metric([inst], 1 if view.state == "up" else 0)
            for kind, n in view.by_kind.items():
                breaks.add_metric([inst, kind], n)
            reports.add_metric([inst, "matched"], view.matched)
            reports.add_metric([inst, "duplicate"], view.duplicates)
        yield up
        yield breaks
        yield reports

    def _journal(self) -> Iterator[Metric]:
        inst, journal = self.gw.instance_id, self.gw.journal
        commit = getattr(journal, "commit_latency", None)
        if isinstance(commit, LatencyHistogram):
            yield _histogram("interlock_journal_commit_seconds", "Time a batch takes from the "
                             "writer taking it to durable (write, fsync, retries)", commit,
                             inst)  # fmt: skip
        lag = GaugeMetricFamily("interlock_journal_lag_records", "Records appended and not "
                                "yet durable", labels=["instance"])  # fmt: skip
        lag.add_metric([inst], max(0, journal.last_seq - journal.durable_seq))
        yield lag
        up = GaugeMetricFamily(
            "interlock_journal_available",
            "1 if the journal can make records durable, 0 while it is unavailable",
            labels=["instance"],
        )
        up.add_metric([inst], 1 if journal.available else 0)
        yield up

    def _book(self) -> Iterator[Metric]:
        gw, inst = self.gw, self.gw.instance_id
        rate = GaugeMetricFamily("interlock_rate_window_utilisation", "Orders in an "
                                 "account's rate window over its limit (1 = full)",
                                 labels=["instance", "account", "window"])  # fmt: skip
        pos = GaugeMetricFamily(
            "interlock_position_shares",
            "Signed position, shares",
            labels=["instance", "account", "symbol"],
        )
        util = GaugeMetricFamily("interlock_position_utilisation", "Worst case (position "
                                 "plus open orders) over the position limit",
                                 labels=["instance", "account", "symbol"])  # fmt: skip
        with gw._lock:
            now = gw._clock()
            for name, acct in sorted(gw.book.accounts.items()):
                w = acct.windows
                for label, window in (("1s", w.orders_s), ("1m", w.orders_min)):
                    rate.add_metric([inst, name, label], window.in_window(now) / window.count)
                for symbol, p in sorted(acct.positions.items()):
                    long, short = worst_case(p.pos, p.open_buy, p.open_sell, 0)
                    pos.add_metric([inst, name, symbol], p.pos)
                    limit = acct.risk.position_limit(symbol)
                    util.add_metric([inst, name, symbol], max(long, short) / limit)
        yield rate
        yield pos
        yield util

    def _fleet(self) -> Iterator[Metric]:
        gw, inst = self.gw, self.gw.instance_id
        halts = GaugeMetricFamily("interlock_halts", "Halts in force as this instance applies "
                                  "them, by scope", labels=["instance", "scope"])  # fmt: skip
        by_scope: dict[str, int] = {}
        with gw._lock:  # the halt view's tables change under the lock
            records = gw.halts.records()
        for h in records:
            by_scope[h.scope.value] = by_scope.get(h.scope.value, 0) + 1
        for scope, n in sorted(by_scope.items()):
            halts.add_metric([inst, scope], n)
        yield halts
        now = gw._clock()
        ttl = gw.config.lease_ttl_ms * 1_000_000
        own = GaugeMetricFamily("interlock_lease_age_seconds", "Time since this instance "
                                "last renewed its lease (its TTL: the lease is gone)",
                                labels=["instance"])  # fmt: skip
        deadline = gw.gate.lease_deadline
        own.add_metric([inst], (ttl if deadline == 0 else ttl - (deadline - now)) / 1e9)
        yield own
        members = gw.fleet.plane.members()
        count = GaugeMetricFamily("interlock_members", "Live fleet members", labels=["instance"])
        count.add_metric([inst], len(members))
        yield count
        ages = GaugeMetricFamily(
            "interlock_member_lease_age_seconds",
            "Time since each live member last renewed its lease",
            labels=["instance", "member"],
        )
        for m in sorted(members, key=lambda m: m.instance_id):
            ages.add_metric([inst, m.instance_id], (ttl - (m.lease_expires_ns - now)) / 1e9)
        yield ages
        trips = CounterMetricFamily("interlock_monitor_trips", "Runaway monitors' trips (each "
                                    "a halt)", labels=["instance", "detector"])  # fmt: skip
        by_detector: dict[str, int] = {}
        for trip, _report in gw.trip_reports:
            by_detector[trip.detector] = by_detector.get(trip.detector, 0) + 1
        for detector, n in sorted(by_detector.items()):
            trips.add_metric([inst, detector], n)
        yield trips


def registry_for(gateway: Gateway) -> CollectorRegistry:
    """A registry of this gateway's metrics alone."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(GatewayCollector(gateway))
    return registry
