"""Pre-trade checks, one family per module, each a pure function.

A check takes the order, its account's book, the whole book and `now` (ns), and returns a
`Rejection` or None. It reads state and never changes it; no I/O, no clock, no raise.
"""

from collections.abc import Callable

from interlock.domain.order import Order
from interlock.domain.reject import Rejection
from interlock.risk.book import AccountBook, Book

Check = Callable[[Order, AccountBook, Book, int], Rejection | None]

__all__ = ["Check"]
