"""MARKET_CLOSED and SESSION_MISMATCH: the order's session is the server's calendar's.

Decode stamps each order with the calendar's session at `now` (None: closed) and keeps the
caller's label beside it. This check runs first among the pre-trade checks, after the
kill switch and after a known idempotency key is answered: a retry after the close gets
its first decision back, and a halt is reported as the halt it is. Nothing goes outside
a session, and a label that disagrees with the server is refused, never obeyed: a label
that bought the auction's wider collar is the hole Knight's collar had.
"""

from __future__ import annotations

from interlock.domain.order import Order
from interlock.domain.reject import RejectCode, Rejection, reject
from interlock.risk.book import AccountBook, Book


def check_session(order: Order, acct: AccountBook, book: Book, now: int) -> Rejection | None:
    session, label = order.session, order.label
    if session is not None and (label is None or label is session):
        return None
    cal = book.calendar
    if session is None:
        return reject(
            RejectCode.MARKET_CLOSED,
            f"no trading session at {cal.closed_reason(now)}",
            limit="a trading session",
            attempted=cal.local_text(now),
        )
    assert label is not None
    return reject(
        RejectCode.SESSION_MISMATCH,
        f"order labelled {label.value}, but the session at {cal.local_text(now)} is "
        f"{session.value}: leave session empty or give the server's",
        limit=session.value,
        attempted=label.value,
    )
