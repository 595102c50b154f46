"""RATE_LIMIT: sliding-window envelopes per instance, strategy, symbol, and market orders
per symbol. A full window rejects; nothing is queued for later."""

from __future__ import annotations

from interlock.domain.order import Order
from interlock.domain.reject import RejectCode, Rejection, reject
from interlock.risk.book import AccountBook, Book
from interlock.risk.windows import SlidingWindow


def _reject(what: str, w: SlidingWindow, now: int) -> Rejection:
    return reject(
        RejectCode.RATE_LIMIT,
        f"{what}: {w.in_window(now) + 1:,} orders in {w.window_ns // 1_000_000:,} ms, "
        f"over limit {w.count:,}",
        limit=f"{w.count}/{w.window_ns // 1_000_000} ms",
        attempted=w.in_window(now) + 1,
    )


def check_rate(order: Order, acct: AccountBook, book: Book, now: int) -> Rejection | None:
    # inline form of SlidingWindow.full(): full when the oldest of the last N is in the window
    t = book.throttles
    w = t.instance
    s = w.stamps
    if len(s) == w.count and s[0] > now - w.window_ns:
        return _reject("instance rate", w, now)
    w = t.strategy.windows.get(order.strategy)  # type: ignore[assignment]
    if w is not None and len(w.stamps) == w.count and w.stamps[0] > now - w.window_ns:
        return _reject(f"strategy {order.strategy} rate", w, now)
    w = t.symbol.windows.get(order.symbol)  # type: ignore[assignment]
    if w is not None and len(w.stamps) == w.count and w.stamps[0] > now - w.window_ns:
        return _reject(f"symbol {order.symbol} rate", w, now)
    if order.is_market:
        w = t.market_symbol.windows.get(order.symbol)  # type: ignore[assignment]
        if w is not None and w.full(now):
            return _reject(f"market orders in {order.symbol}", w, now)
    return None
