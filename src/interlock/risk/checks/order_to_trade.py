"""ORDER_TO_TRADE_RATIO: orders (accepted new orders + cancel requests) per trade (fill)
over the trading day, per account and per account and strategy (risk/order_to_trade.py).

The ratio applies once the day's orders pass `min_orders` (before that, the first order
of the day would have a ratio of infinity); then a new order is refused when, counting
it, orders > max_ratio * trades. Integers only: no division.
"""

from __future__ import annotations

from interlock.domain.order import Order
from interlock.domain.reject import RejectCode, Rejection, reject
from interlock.risk.book import AccountBook, Book
from interlock.risk.order_to_trade import Tally
from interlock.risk.windows import SHARED_STRATEGY


def check_order_to_trade(order: Order, acct: AccountBook, book: Book, now: int) -> Rejection | None:
    t = book.tallies
    if not (t.start <= now < t.end):
        return None  # the first order of a new day: nothing counted yet
    a = t.accounts.get(order.account)
    if a is None or a.orders < t.min_orders:  # under the floor: so is each of its strategies
        return None
    if _over(a, t.max_ratio, t.min_orders):
        return _reject(f"account {order.account}", a, t.max_ratio, t.min_orders)
    strategy = order.strategy
    key = strategy if strategy in acct.windows.declared else SHARED_STRATEGY
    s = t.strategies[order.account].get(key)
    if s is not None and _over(s, t.max_ratio, t.min_orders):
        shown = key if key == strategy else f"{strategy} (undeclared: shared *)"
        what = f"account {order.account} strategy {shown}"
        return _reject(what, s, t.max_ratio, t.min_orders)
    return None


def _over(t: Tally, max_ratio: int, min_orders: int) -> bool:
    n = t.orders + 1  # with this order
    return n > min_orders and n > max_ratio * t.trades


def _reject(what: str, t: Tally, max_ratio: int, min_orders: int) -> Rejection:
    n = t.orders + 1
    return reject(
        RejectCode.ORDER_TO_TRADE_RATIO,
        f"{what}: {n:,} orders (new + cancels) to {t.trades:,} trades today, over limit "
        f"{max_ratio:,} orders per trade (applies after {min_orders:,} orders)",
        limit=f"{max_ratio} orders per trade",
        attempted=f"{n} orders / {t.trades} trades",
    )
