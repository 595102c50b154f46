"""What the message throttle and the order-to-trade ratio would do to the baseline's flow.

The baseline (no Interlock) knows how many Power Peg children each server sent in each
second. The throttle is the packaged one (`limits.messages`, as `interlock serve` runs
it): every server is its own instance with one session (the SMARS routers' key), so a
server's budget a second is the smaller of the two windows. Counting per calendar second is
exact for Power Peg's even 100 ms cycle (a sliding window refuses no less for an uneven
one). The order-to-trade ratio is the day's: orders sent against executions, with the
packaged `limits.order_to_trade`. These are counterfactual counts beside the runs, not a
run: Knight's own orders filled, and at a few hundred a second per server they stay
inside a desk's message budget, which is the honest finding.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from interlock.replay.baseline import BaselineResult
from interlock.risk.limits import LimitsConfig


@dataclass(frozen=True, slots=True)
class MessageBudget:
    per_server_per_s: int  # the throttle's budget of one server (session and instance)
    peak_per_server_per_s: int  # the runaway's busiest second on one server
    throttle_refusals: int  # children the throttle would have refused
    orders: int
    trades: int
    max_ratio: int
    min_orders: int

    @property
    def ratio_refuses(self) -> bool:
        return self.orders > self.min_orders and self.orders > self.max_ratio * self.trades

    def line(self) -> str:
        ratio = self.orders / self.trades if self.trades else float("inf")
        otr = (
            "it would refuse the children past that point"
            if self.ratio_refuses
            else "never refused: Knight's orders traded"
        )
        return (
            f"Message throttle ({self.per_server_per_s:,} messages/s a server): the runaway's "
            f"busiest second on one server was {self.peak_per_server_per_s:,} children, so it "
            f"would refuse {self.throttle_refusals:,} of {self.orders:,}; order-to-trade ratio "
            f"({self.max_ratio:,} orders per trade after {self.min_orders:,}): "
            f"{self.orders:,} orders to {self.trades:,} executions, {ratio:.2f} to 1, {otr}"
        )


def message_budget(baseline: BaselineResult, limits: LimitsConfig | None = None) -> MessageBudget:
    cfg = limits or LimitsConfig()
    m = cfg.messages

    def per_s(count: int, window_ms: int) -> int:
        return count * 1_000 // window_ms

    budget = min(per_s(m.per_session.count, m.per_session.window_ms),
                 per_s(m.per_instance.count, m.per_instance.window_ms))  # fmt: skip
    sent = baseline.server_children
    over = int(np.clip(sent - budget, 0, None).sum()) if sent.size else 0
    peak = int(sent.max()) if sent.size else 0
    otr = cfg.order_to_trade
    return MessageBudget(budget, peak, over, baseline.child_orders, baseline.executions,
                         otr.max_ratio, otr.min_orders)  # fmt: skip
