"""What the order path counts for `/metrics`: decisions by code and the decide latency.

The only metrics kept on the hot path (everything else is read from the gateway's state
at scrape time, gateway/metrics.py). `record` runs under the gateway lock, once per
decision: a dict increment and a histogram bisect, no allocation.
"""

from __future__ import annotations

from bisect import bisect_left

from interlock.domain.latency import LatencyHistogram
from interlock.domain.reject import RejectCode

ACCEPTED = "accepted"
"""The `code` label of an accepted order (every other label is a RejectCode's name)."""


class DecisionStats:
    __slots__ = ("by_code", "decide", "fills")

    def __init__(self) -> None:
        self.by_code: dict[RejectCode | None, int] = dict.fromkeys((None, *RejectCode), 0)
        self.decide = LatencyHistogram()
        self.fills = 0  # executions applied (the order-to-fill alert's denominator)

    def record(self, code: RejectCode | None, ns: int) -> None:
        """One decision: `code` None if accepted; `ns` the time it took to decide. The
        histogram's `observe`, inline: one call a decision, not two."""
        self.by_code[code] += 1
        h = self.decide
        h.counts[bisect_left(h.bounds, ns)] += 1
        h.sum_ns += ns

    def counts(self) -> dict[str, int]:
        """Decisions so far by label: `accepted`, or the reject code."""
        return {ACCEPTED if c is None else c.value: n for c, n in self.by_code.items()}
