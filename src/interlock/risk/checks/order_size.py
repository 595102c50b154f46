"""MAX_ORDER_QTY and MAX_ORDER_NOTIONAL: the fat-finger limits on one order."""

from __future__ import annotations

from interlock.domain.money import fmt_money
from interlock.domain.order import Order
from interlock.domain.reject import RejectCode, Rejection, reject
from interlock.risk.book import AccountBook, Book


def check_max_qty(order: Order, acct: AccountBook, book: Book, now: int) -> Rejection | None:
    limit = acct.risk.max_order_qty
    if order.qty > limit:
        return reject(
            RejectCode.MAX_ORDER_QTY,
            f"quantity {order.qty:,} shares over limit {limit:,} shares "
            f"(account {order.account}, {order.symbol})",
            limit=limit,
            attempted=order.qty,
        )
    return None


def check_max_notional(order: Order, acct: AccountBook, book: Book, now: int) -> Rejection | None:
    limit = acct.risk.max_order_notional
    notional = order.notional
    if notional > limit:
        how = "valued at reference plus band" if order.is_market else "at limit price"
        ccy = order.instrument.currency
        return reject(
            RejectCode.MAX_ORDER_NOTIONAL,
            f"notional {fmt_money(notional, ccy)} ({how}) over limit {fmt_money(limit, ccy)} "
            f"(account {order.account}, {order.symbol})",
            limit=fmt_money(limit, ccy),
            attempted=fmt_money(notional, ccy),
        )
    return None
