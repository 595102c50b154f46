"""PARENT_OVERFILL: the children of a parent never sum past its quantity (invariant 5).

Open children count as well as fills: this is the cumulative-quantity stop that Knight's
Power Peg lost in 2005. A child naming a parent never declared has a parent of 0 shares.
"""

from __future__ import annotations

from interlock.domain.order import Order
from interlock.domain.reject import RejectCode, Rejection, reject
from interlock.risk.book import AccountBook, Book


def check_parent(order: Order, acct: AccountBook, book: Book, now: int) -> Rejection | None:
    pid = order.parent_id
    if pid is None:
        return None
    ps = book.parents.get(pid)
    if ps is None:
        return reject(
            RejectCode.PARENT_OVERFILL,
            f"parent {pid} was never declared: its children may total 0 shares, "
            f"child is {order.qty:,}",
            limit=0,
            attempted=order.qty,
        )
    parent = ps.parent
    if (parent.account, parent.symbol, parent.side.sign) != (
        order.account,
        order.symbol,
        order.sign,
    ):
        return reject(
            RejectCode.PARENT_OVERFILL,
            f"child {order.account} {order.side.value} {order.symbol} does not match parent "
            f"{pid} ({parent.account} {parent.side.value} {parent.symbol}): it may fill 0 of it",
            limit=0,
            attempted=order.qty,
        )
    total = ps.filled + ps.open + order.qty
    if total > parent.quantity:
        return reject(
            RejectCode.PARENT_OVERFILL,
            f"children of parent {pid} would total {total:,} shares ({ps.filled:,} filled, "
            f"{ps.open:,} open, {order.qty:,} new), over parent quantity {parent.quantity:,}",
            limit=parent.quantity,
            attempted=total,
        )
    return None
