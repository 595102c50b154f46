"""MARKET_ORDER_NOT_ALLOWED: market orders only for the accounts and sessions allowed."""

from __future__ import annotations

from interlock.domain.order import Order
from interlock.domain.reject import RejectCode, Rejection, reject
from interlock.risk.book import AccountBook, Book


def check_market_order(order: Order, acct: AccountBook, book: Book, now: int) -> Rejection | None:
    if order.is_market and order.session not in acct.risk.market_sessions:
        session = "closed" if order.session is None else order.session.value
        allowed = ", ".join(sorted(s.value for s in acct.risk.market_sessions)) or "none"
        return reject(
            RejectCode.MARKET_ORDER_NOT_ALLOWED,
            f"market order in session {session} for account {order.account}; "
            f"market orders allowed in: {allowed}",
            limit=allowed,
            attempted=session,
        )
    return None
