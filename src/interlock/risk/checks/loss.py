"""LOSS_LIMIT: no new risk once the day's loss, realized plus marked to the reference, is
past the account's limit. A fill or a mark that breaches it halts the account (the
gateway). With `limits.loss_halt_allows_reducing`, an order that can only reduce a
position still passes, so the desk can flatten what lost the money."""

from __future__ import annotations

from interlock.domain.money import fmt_money
from interlock.domain.order import Order
from interlock.domain.reject import RejectCode, Rejection, reject
from interlock.risk.book import AccountBook, Book, reduces


def loss_breached(acct: AccountBook) -> bool:
    return -acct.pnl > acct.risk.daily_loss_limit


def check_loss(order: Order, acct: AccountBook, book: Book, now: int) -> Rejection | None:
    if not loss_breached(acct):
        return None
    if book.limits.loss_halt_allows_reducing and reduces(acct, order):
        return None
    ccy = order.instrument.currency
    limit = acct.risk.daily_loss_limit
    return reject(
        RejectCode.LOSS_LIMIT,
        f"account {order.account} day loss {fmt_money(-acct.pnl, ccy)} (realized plus marked) "
        f"over daily loss limit {fmt_money(limit, ccy)}",
        limit=fmt_money(limit, ccy),
        attempted=fmt_money(-acct.pnl, ccy),
    )
