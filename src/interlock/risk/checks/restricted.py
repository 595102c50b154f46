"""RESTRICTED_SYMBOL: firm-wide and per-account restricted lists."""

from __future__ import annotations

from interlock.domain.order import Order
from interlock.domain.reject import RejectCode, Rejection, reject
from interlock.risk.book import AccountBook, Book


def check_restricted(order: Order, acct: AccountBook, book: Book, now: int) -> Rejection | None:
    if order.symbol in acct.risk.restricted:
        return reject(
            RejectCode.RESTRICTED_SYMBOL,
            f"symbol {order.symbol} is on the restricted list for account {order.account}",
            limit="restricted list",
            attempted=order.symbol,
        )
    return None
