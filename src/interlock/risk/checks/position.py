"""POSITION_LIMIT: shares per account and symbol, counting open orders at their worst case.

Knight's position limits ignored outstanding orders; here a buy is judged as if every
open buy filled, and a sale as if every open sale filled.
"""

from __future__ import annotations

from interlock.domain.order import Order
from interlock.domain.reject import RejectCode, Rejection, reject
from interlock.risk.book import AccountBook, Book
from interlock.risk.exposure import worst_case


def check_position(order: Order, acct: AccountBook, book: Book, now: int) -> Rejection | None:
    risk = acct.risk
    limit = risk.position_overrides.get(order.symbol, risk.max_position)
    p = acct.positions.get(order.symbol)
    pos, open_buy, open_sell = (p.pos, p.open_buy, p.open_sell) if p is not None else (0, 0, 0)
    sign = order.sign
    long, short = worst_case(pos, open_buy, open_sell, sign * order.qty)
    if sign > 0:  # only the order's own side: a buy never worsens the short case
        worst = long
        if worst <= limit:
            return None
        side = "long"
        open_qty = open_buy
    else:
        worst = short
        if worst <= limit:
            return None
        side = "short"
        open_qty = open_sell
    return reject(
        RejectCode.POSITION_LIMIT,
        f"worst-case {side} position {worst:,} shares (position {pos:,}, open {open_qty:,}, "
        f"order {order.qty:,}) over limit {limit:,} shares (account {order.account}, "
        f"{order.symbol})",
        limit=limit,
        attempted=worst,
    )
