"""ADV_LIMIT: the fat finger measured against the market. One order may be at most
`limits.adv.max_order_bps` of its symbol's average daily volume; a symbol with no ADV
figure is refused (fail closed: a size nobody can compare is not a safe size), and so is
every symbol while the ADV file's figures are stale (`Book.adv_stale`)."""

from __future__ import annotations

from interlock.domain.order import Order
from interlock.domain.reject import RejectCode, Rejection, reject
from interlock.risk.book import AccountBook, Book


def check_adv(order: Order, acct: AccountBook, book: Book, now: int) -> Rejection | None:
    limit = book.adv_max_qty.get(order.symbol)
    if limit is not None and order.qty <= limit:
        return None
    bps = book.limits.adv.max_order_bps
    if limit is None and book.adv_stale:
        return reject(
            RejectCode.ADV_LIMIT,
            f"the average daily volume figures are stale ({book.adv_stale}), so an order of "
            f"{order.qty:,} {order.symbol} cannot be held to {bps:,} bps of them",
            limit="ADV figures no older than limits.adv.max_age_days",
            attempted=order.qty,
        )
    if limit is None:
        return reject(
            RejectCode.ADV_LIMIT,
            f"no average daily volume for {order.symbol} (limits.adv.shares), so an order "
            f"of {order.qty:,} cannot be held to {bps:,} bps of it",
            limit="an ADV figure",
            attempted=order.qty,
        )
    adv = book.adv_shares[order.symbol]
    return reject(
        RejectCode.ADV_LIMIT,
        f"order of {order.qty:,} {order.symbol} over limit {limit:,} shares "
        f"({bps:,} bps of its average daily volume {adv:,})",
        limit=limit,
        attempted=order.qty,
    )
