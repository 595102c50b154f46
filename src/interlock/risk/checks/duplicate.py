"""DUPLICATE_ORDER: the same order again inside a short window is almost always a bug."""

from __future__ import annotations

from interlock.domain.order import Order
from interlock.domain.reject import RejectCode, Rejection, reject
from interlock.risk.book import AccountBook, Book

_NS_PER_MS = 1_000_000


def check_duplicate(order: Order, acct: AccountBook, book: Book, now: int) -> Rejection | None:
    recent = book.recent
    key = (order.account, order.symbol, order.sign, order.qty, order.price, order.parent_id)
    t = recent.last.get(key)
    if t is None or now - t >= recent.window_ns:
        return None
    age = now - t
    window_ms = book.limits.duplicate_window_ms
    price = "market" if order.is_market else str(order.instrument.to_price(order.price))
    return reject(
        RejectCode.DUPLICATE_ORDER,
        f"same order ({order.account} {order.side.value} {order.qty:,} {order.symbol} @ {price}) "
        f"accepted {age // _NS_PER_MS:,} ms ago, inside duplicate window {window_ms:,} ms",
        limit=f"{window_ms} ms",
        attempted=f"{age // _NS_PER_MS} ms",
    )
