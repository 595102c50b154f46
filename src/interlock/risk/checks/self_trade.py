"""SELF_TRADE: an order that would trade with a working order of its own group (the same
account, or another account of the same firm group) is refused, in modes `reject` and
`cancel_newest` (the incoming, newest order is the one cancelled: it never goes out).
In mode `cancel_oldest` this check lets it pass and the gateway cancels the crossed
working orders first (`Gateway._cancel_crossed`). Two dict reads and a comparison
(risk/self_trade.py).
"""

from __future__ import annotations

from interlock.domain.order import Order
from interlock.domain.reject import RejectCode, Rejection, reject
from interlock.risk.book import AccountBook, Book
from interlock.risk.self_trade import MARKET_BUY


def check_self_trade(order: Order, acct: AccountBook, book: Book, now: int) -> Rejection | None:
    best = book.crossing.crossed(order)
    if best is None or book.stp_cancel_oldest:
        return None
    inst = order.instrument
    price = "market" if order.is_market else str(inst.to_price(order.price))
    other = "sell" if order.sign > 0 else "buy"
    shown = "market" if best in (0, MARKET_BUY) else str(inst.to_price(best))
    group = book.crossing.group(order.account)
    mode = book.limits.self_trade.mode.value
    return reject(
        RejectCode.SELF_TRADE,
        f"{order.side.value} {order.qty:,} {order.symbol} @ {price} for account "
        f"{order.account} would trade with a working {other} @ {shown} of group {group} "
        f"(self-trade prevention, mode {mode}: the new order is cancelled)",
        limit=f"no cross within group {group}",
        attempted=f"{order.side.value} @ {price} vs {other} @ {shown}",
    )
