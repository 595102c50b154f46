"""SMARS, the build the July 2012 deploy did not reach: the flag still means Power Peg.

Power Peg was last used in 2003 but never removed. Pre-market it is disabled, and every
order that reaches it sends the "BNET reject ... Power Peg disabled" e-mail (SEC ¶19); from
the open it works each parent with the broken stop of `base.PowerPeg`.
"""

from __future__ import annotations

from interlock.replay.scenario import Parent
from interlock.replay.smars.base import PowerPeg, Route, Router, Worker


class PowerPegRouter(Router):
    build = "smars-2003-power-peg"

    def preopen(self, order_id: str, symbol: str, now: int) -> None:
        if self.flags().enabled("power_peg"):
            self.warn(now, f"BNET reject: SMARS {self.server}: order {order_id} {symbol}: "
                           "Power Peg disabled")  # fmt: skip

    def _algo(self, parent: Parent, now: int) -> Worker:
        if self.flags().enabled("power_peg"):
            return PowerPeg(parent, now, self.interval_ns, self.child_qty)
        return Route(parent, "route")
