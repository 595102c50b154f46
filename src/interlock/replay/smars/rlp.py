"""SMARS, the July 2012 build: the flag means the Retail Liquidity Program.

Parents are routed until filled; with "rlp" on they go to the NYSE RLP, otherwise to the
lit market. Either way the cumulative quantity is tracked, so a filled parent sends nothing.
"""

from __future__ import annotations

from interlock.replay.scenario import Parent
from interlock.replay.smars.base import Route, Router, Worker


class RlpRouter(Router):
    build = "smars-2012.07-rlp"

    def preopen(self, order_id: str, symbol: str, now: int) -> None:
        if self.flags().enabled("rlp"):
            return  # the RLP opens at 09:30: a pre-market order waits for it

    def _algo(self, parent: Parent, now: int) -> Worker:
        if self.flags().enabled("rlp"):
            return Route(parent, "rlp")
        return Route(parent, "route")
