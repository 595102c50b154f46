"""A latency histogram of fixed buckets in integer nanoseconds, cheap enough for the hot path.

One `observe` is a bisect and two integer additions, with no allocation; the metrics
endpoint reads the counts at scrape time. Not locked: each histogram has one writer (the
gateway lock's holder, or the journal writer thread), and a scrape that races it reads
counts at most one observation apart.
"""

from __future__ import annotations

from bisect import bisect_left

LATENCY_BOUNDS_NS: tuple[int, ...] = (
    1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000,
    1_000_000, 2_500_000, 5_000_000, 10_000_000, 50_000_000, 250_000_000, 1_000_000_000,
)  # fmt: skip
"""Upper bounds (ns) of the buckets: 1 µs to 1 s; one more bucket holds the rest (+Inf)."""


class LatencyHistogram:
    __slots__ = ("bounds", "counts", "sum_ns")

    def __init__(self, bounds: tuple[int, ...] = LATENCY_BOUNDS_NS) -> None:
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)  # the last: above every bound
        self.sum_ns = 0

    def observe(self, ns: int) -> None:
        self.counts[bisect_left(self.bounds, ns)] += 1
        self.sum_ns += ns

    def cumulative(self) -> list[tuple[float, int]]:
        """(upper bound in seconds, observations at or below it), +Inf last: Prometheus's form."""
        out: list[tuple[float, int]] = []
        total = 0
        for bound, count in zip((*self.bounds, None), self.counts, strict=True):
            total += count
            out.append((float("inf") if bound is None else bound / 1e9, total))
        return out
