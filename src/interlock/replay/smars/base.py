"""What both SMARS builds share: parents, child orders, the two ways of working a parent.

`Route` is what a router should do: send one marketable child for what the parent still
needs, and another only when that one is done without filling it all. `PowerPeg` is the
dead algorithm as it stood after 2005: its cumulative-quantity stop reads a count that the
2005 change moved to the point where the parent arrives, so executions never reach it and
it sends a child every cycle "without regard to the executions already received" (SEC ¶14).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

import numpy as np
import numpy.typing as npt

from interlock.domain.enums import Side
from interlock.replay.scenario import Parent

IntArray = npt.NDArray[np.int64]
T = TypeVar("T", int, IntArray)


class FlagReader(Protocol):
    """What routers read flags through: `interlock.flags.FlagSet` (the linter's convention)."""

    def enabled(self, name: str, /) -> bool: ...


Warn = Callable[[int, str], None]  # (time ns, text): the e-mail SMARS sent, or an alert


@dataclass(frozen=True, slots=True)
class Child:
    """One child order: marketable at the far touch, immediate-or-cancel."""

    parent_id: str
    symbol: str
    side: Side
    quantity: int
    n: int  # the parent's n-th child
    algo: str


class Route:
    """Work a parent until it is filled: one child at a time, for what is still needed."""

    algo = "route"

    def __init__(self, parent: Parent, algo: str = "route") -> None:
        self.parent = parent
        self.algo = algo
        self.remaining = parent.quantity
        self.working = False
        self.sent = 0

    def due(self, now: int) -> list[Child]:
        if self.working or self.remaining <= 0:
            return []
        self.working = True
        self.sent += 1
        p = self.parent
        return [Child(p.parent_id, p.symbol, p.side, self.remaining, self.sent, self.algo)]

    def done(self, filled: int) -> None:
        """The child in flight finished (filled, missed or refused) with `filled` shares."""
        self.remaining -= filled
        self.working = False

    def skip(self, until: int, cycles: int) -> int:
        """Children sent in the next `cycles` cycles if each one is refused (none in flight)."""
        if self.working or self.remaining <= 0:
            return 0
        self.sent += cycles
        return cycles


class PowerPeg:
    """Power Peg after 2005: a child every cycle, and a stop that never sees a fill."""

    algo = "power_peg"

    def __init__(self, parent: Parent, start_ns: int, interval_ns: int, child_qty: int) -> None:
        self.parent = parent
        self.start_ns = start_ns
        self.interval_ns = interval_ns
        self.child_qty = child_qty
        self.cum_qty = 0  # the 2005 move: counted where the parent arrives, never from fills
        self.filled = 0
        self.sent = 0

    def _stop(self) -> bool:
        return self.cum_qty >= self.parent.quantity

    def due(self, now: int) -> list[Child]:
        """Every child whose cycle has come by `now` (one per cycle)."""
        out: list[Child] = []
        p = self.parent
        while not self._stop() and self.start_ns + self.sent * self.interval_ns <= now:
            self.sent += 1
            out.append(Child(p.parent_id, p.symbol, p.side, self.child_qty, self.sent, self.algo))
        return out

    def done(self, filled: int) -> None:
        self.filled += filled  # recorded for reports; the stop above reads cum_qty

    def skip(self, until: int, cycles: int) -> int:
        """Children `due` would emit for every cycle before `until`, all refused."""
        n = max(-((self.start_ns - until) // self.interval_ns) - self.sent, 0)
        self.sent += n
        return n

    def children_in(self, t0: T, t1: T) -> T:
        """How many children `due` emits for cycles in [t0, t1): the aggregated baseline's
        closed form of the same loop (a test checks they agree)."""
        iv = self.interval_ns
        return np.maximum(-((self.start_ns - t1) // iv), 0) - np.maximum(  # type: ignore[no-any-return]
            -((self.start_ns - t0) // iv), 0
        )


Worker = Route | PowerPeg


class Router:
    """One SMARS server: the parents dealt to it and the workers that trade them.

    The builds differ only in how they read the flag (`_algo`, `preopen`); the flag reader
    is asked on every read, so a flag switched on or off takes effect at once.
    """

    build = "smars"

    def __init__(
        self,
        server: str,
        flags: Callable[[], FlagReader],
        warn: Warn,
        *,
        interval_ns: int = 100_000_000,
        child_qty: int = 100,
    ) -> None:
        self.server = server
        self.flags = flags
        self.warn = warn
        self.interval_ns = interval_ns
        self.child_qty = child_qty
        self.held: list[Parent] = []
        self.workers: dict[str, Worker] = {}

    def preopen(self, order_id: str, symbol: str, now: int) -> None:
        """A pre-market RLP order (not one of the parents for the open)."""

    def accept(self, parent: Parent) -> None:
        """A parent for the opening auction: held until the open."""
        self.held.append(parent)

    def open(self, now: int) -> None:
        for parent in self.held:
            self.workers[parent.parent_id] = self._algo(parent, now)
        self.held.clear()

    def recover(self, parents: list[Parent], now: int) -> None:
        """Restarted after the open: take the server's parent book back and work it."""
        for parent in parents:
            self.workers[parent.parent_id] = self._algo(parent, now)

    def tick(self, now: int) -> list[Child]:
        return [c for w in self.workers.values() for c in w.due(now)]

    def done(self, child: Child, filled: int) -> None:
        self.workers[child.parent_id].done(filled)

    def skip(self, until: int, cycles: int) -> int:
        """Fast-forward: the children this router sends before `until` (`cycles` cycles)
        when every one of them is refused, without building them."""
        return sum(w.skip(until, cycles) for w in self.workers.values())

    def _algo(self, parent: Parent, now: int) -> Worker:
        return Route(parent)

    def power_pegs(self) -> list[PowerPeg]:
        return [w for w in self.workers.values() if isinstance(w, PowerPeg)]
