"""MESSAGE_RATE: the message throttle (risk/messages.py) on the order path.

New orders, cancels and replaces all spend it; this is the new order's side of it (a
cancel's refusal is `Gateway.cancel`'s, with the same windows and code).
"""

from __future__ import annotations

from interlock.domain.order import Order
from interlock.domain.reject import Rejection
from interlock.risk.book import AccountBook, Book


def check_message_rate(order: Order, acct: AccountBook, book: Book, now: int) -> Rejection | None:
    m = book.messages
    w = m.instance  # SlidingWindow.full, inline for both windows: the common case passes
    if len(w.stamps) == w.count and w.stamps[0] > now - w.window_ns:
        return m.refusal(order.principal, now, "new order")
    w = m.sessions.windows.get(order.principal)  # type: ignore[assignment]
    if w is not None and len(w.stamps) == w.count and w.stamps[0] > now - w.window_ns:
        return m.refusal(order.principal, now, "new order")
    return None
