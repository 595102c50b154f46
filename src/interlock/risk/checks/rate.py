"""RATE_LIMIT: sliding-window envelopes. Per instance (every account together); per account
in orders and notional per second and per minute; per account and strategy (a name no API
key declares for the account shares the account's one `*` window); per account and symbol;
market orders per account and symbol. A full window rejects; nothing is queued for later.
"""

from __future__ import annotations

from interlock.domain.money import fmt_money
from interlock.domain.order import Order
from interlock.domain.reject import RejectCode, Rejection, reject
from interlock.risk.book import AccountBook, Book
from interlock.risk.windows import SHARED_STRATEGY, NotionalWindow, SlidingWindow


def _reject(what: str, w: SlidingWindow, now: int) -> Rejection:
    return reject(
        RejectCode.RATE_LIMIT,
        f"{what}: {w.in_window(now) + 1:,} orders in {w.window_ns // 1_000_000:,} ms, "
        f"over limit {w.count:,}",
        limit=f"{w.count}/{w.window_ns // 1_000_000} ms",
        attempted=w.in_window(now) + 1,
    )


def _reject_notional(order: Order, w: NotionalWindow, now: int) -> Rejection:
    ccy = order.instrument.currency
    total = w.used(now) + order.notional
    ms = w.window_ns // 1_000_000
    return reject(
        RejectCode.RATE_LIMIT,
        f"account {order.account} notional rate: {fmt_money(total, ccy)} in {ms:,} ms, "
        f"over limit {fmt_money(w.limit, ccy)}",
        limit=f"{fmt_money(w.limit, ccy)}/{ms} ms",
        attempted=fmt_money(total, ccy),
    )


def check_rate(order: Order, acct: AccountBook, book: Book, now: int) -> Rejection | None:
    # inline form of SlidingWindow.full(): full when the oldest of the last N is in the window
    w = book.throttles.instance
    s = w.stamps
    if len(s) == w.count and s[0] > now - w.window_ns:
        return _reject("instance rate", w, now)
    aw = acct.windows
    w = aw.orders_s
    if len(w.stamps) == w.count and w.stamps[0] > now - w.window_ns:
        return _reject(f"account {order.account} rate", w, now)
    w = aw.orders_min
    if len(w.stamps) == w.count and w.stamps[0] > now - w.window_ns:
        return _reject(f"account {order.account} rate", w, now)
    notional = order.notional
    n = aw.notional_s
    if n.total + notional > n.limit and n.over(notional, now):
        return _reject_notional(order, n, now)
    n = aw.notional_min
    if n.total + notional > n.limit and n.over(notional, now):
        return _reject_notional(order, n, now)
    strategy = order.strategy if order.strategy in aw.declared else SHARED_STRATEGY  # inline

    w = aw.strategy.windows.get(strategy)  # type: ignore[assignment]
    if w is not None and len(w.stamps) == w.count and w.stamps[0] > now - w.window_ns:
        shared = strategy == SHARED_STRATEGY
        shown = f"{order.strategy} (undeclared: shared *)" if shared else order.strategy
        return _reject(f"account {order.account} strategy {shown} rate", w, now)
    w = aw.symbol.windows.get(order.symbol)  # type: ignore[assignment]
    if w is not None and len(w.stamps) == w.count and w.stamps[0] > now - w.window_ns:
        return _reject(f"account {order.account} symbol {order.symbol} rate", w, now)
    if order.is_market:
        w = aw.market_symbol.windows.get(order.symbol)  # type: ignore[assignment]
        if w is not None and w.full(now):
            return _reject(f"account {order.account} market orders in {order.symbol}", w, now)
    return None
