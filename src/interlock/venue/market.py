"""A seeded market model: the prices the simulated venue trades at and the gateway reads.

One model feeds both sides so that the reference price the risk checks judge against and
the touch the venue fills at are the same numbers; a test can then reason about collars
and fills together. All prices are integer ticks, all sizes integer shares, and the walk is
drawn from one `random.Random(seed)`, so a seed names a whole price path.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass

MidListener = Callable[[str, int], None]


@dataclass(slots=True)
class _Book:
    """One symbol's touch: bid = mid - half_spread, ask = mid + half_spread."""

    mid: int
    half_spread: int
    depth: int

    @property
    def floor(self) -> int:
        """Lowest mid that keeps the bid at one tick or more."""
        return self.half_spread + 1


class MarketModel:
    """Mid prices that random-walk, a fixed half-spread and a displayed depth per symbol.

    `books` maps symbol -> (initial mid ticks, half-spread ticks, depth in shares).
    `volatility_ticks` is the standard deviation of one step of the mid, in ticks.
    Listeners hear every mid change, after the model's lock is released, so a listener may
    read `quote` or call back into the model.
    """

    def __init__(
        self,
        books: Mapping[str, tuple[int, int, int]],
        *,
        seed: int = 0,
        volatility_ticks: int = 1,
    ) -> None:
        if volatility_ticks < 0:
            raise ValueError(f"volatility_ticks must be >= 0, got {volatility_ticks}")
        self._books: dict[str, _Book] = {}
        for symbol in sorted(books):
            mid, half_spread, depth = books[symbol]
            if half_spread < 1:
                raise ValueError(f"{symbol}: half-spread must be >= 1 tick, got {half_spread}")
            if depth < 1:
                raise ValueError(f"{symbol}: depth must be >= 1 share, got {depth}")
            if mid - half_spread < 1:
                raise ValueError(
                    f"{symbol}: mid {mid} with half-spread {half_spread} puts the bid below 1 tick"
                )
            self._books[symbol] = _Book(mid, half_spread, depth)
        self._volatility = volatility_ticks
        self._rng = random.Random(seed)
        self._lock = threading.RLock()
        self._listeners: list[MidListener] = []

    @property
    def symbols(self) -> tuple[str, ...]:
        return tuple(self._books)

    def __contains__(self, symbol: object) -> bool:
        return symbol in self._books

    def subscribe(self, callback: MidListener) -> None:
        """Call `callback(symbol, mid_ticks)` on every later mid change (a reference feed)."""
        with self._lock:
            self._listeners.append(callback)

    def unsubscribe(self, callback: MidListener) -> None:
        """Stop calling `callback` (a gateway that went away: its feed ends with it)."""
        with self._lock:
            self._listeners = [cb for cb in self._listeners if cb != callback]

    def mid(self, symbol: str) -> int:
        """Current mid in ticks; KeyError for a symbol the model does not know."""
        with self._lock:
            return self._books[symbol].mid

    def quote(self, symbol: str) -> tuple[int, int, int]:
        """(bid ticks, ask ticks, displayed depth in shares) at the touch."""
        with self._lock:
            book = self._books[symbol]
            return book.mid - book.half_spread, book.mid + book.half_spread, book.depth

    def step(self, n: int = 1) -> None:
        """Advance every symbol's mid `n` times; listeners hear each change as it happens.

        Symbols move in sorted order within a step, so the same seed gives the same path and
        the same sequence of notifications whatever order `books` was given in.
        """
        for _ in range(n):
            changes: list[tuple[str, int]] = []
            with self._lock:
                for symbol, book in self._books.items():
                    delta = round(self._rng.normalvariate(0.0, self._volatility))
                    new_mid = max(book.floor, book.mid + delta)
                    if new_mid != book.mid:
                        book.mid = new_mid
                        changes.append((symbol, new_mid))
            self._notify(changes)

    def set_mid(self, symbol: str, mid: int) -> None:
        """Move a mid to a chosen price: scripted scenarios and tests, not the random walk."""
        with self._lock:
            book = self._books[symbol]
            if mid < book.floor:
                raise ValueError(
                    f"{symbol}: mid {mid} with half-spread {book.half_spread} puts the bid "
                    "below 1 tick"
                )
            changed = mid != book.mid
            book.mid = mid
        if changed:
            self._notify([(symbol, mid)])

    def _notify(self, changes: list[tuple[str, int]]) -> None:
        """Tell listeners outside the lock: they may take their own locks or read quotes."""
        if not changes:
            return
        with self._lock:
            listeners = tuple(self._listeners)
        for symbol, mid in changes:
            for listener in listeners:
                listener(symbol, mid)
