"""GROSS_EXPOSURE_LIMIT (account, then firm) and CREDIT_LIMIT.

Gross exposure is positions plus open orders at their worst case, at the mark. Credit is
the FIA measure: the day's executed notional plus open orders, against the account's
credit; trading away a position does not give credit back.
"""

from __future__ import annotations

from interlock.domain.money import fmt_money
from interlock.domain.order import Order
from interlock.domain.reject import RejectCode, Rejection, reject
from interlock.risk.book import AccountBook, Book


def check_gross(order: Order, acct: AccountBook, book: Book, now: int) -> Rejection | None:
    acct_after, firm_after = book.gross_after(acct, order)
    ccy = order.instrument.currency
    limit = acct.risk.max_gross
    if acct_after > limit and acct_after > acct.gross:
        return reject(
            RejectCode.GROSS_EXPOSURE_LIMIT,
            f"account {order.account} gross exposure would be {fmt_money(acct_after, ccy)}, "
            f"over limit {fmt_money(limit, ccy)}",
            limit=fmt_money(limit, ccy),
            attempted=fmt_money(acct_after, ccy),
        )
    firm_limit = book.firm_gross_limit
    if firm_after > firm_limit and firm_after > book.firm.gross:
        return reject(
            RejectCode.GROSS_EXPOSURE_LIMIT,
            f"firm-wide gross exposure would be {fmt_money(firm_after, ccy)}, over limit "
            f"{fmt_money(firm_limit, ccy)}",
            limit=fmt_money(firm_limit, ccy),
            attempted=fmt_money(firm_after, ccy),
        )
    return None


def check_credit(order: Order, acct: AccountBook, book: Book, now: int) -> Rejection | None:
    limit = acct.risk.credit_limit
    used = acct.executed + acct.open_notional + order.notional
    if used > limit:
        ccy = order.instrument.currency
        return reject(
            RejectCode.CREDIT_LIMIT,
            f"credit used would be {fmt_money(used, ccy)} (executed "
            f"{fmt_money(acct.executed, ccy)}, open {fmt_money(acct.open_notional, ccy)}, "
            f"order {fmt_money(order.notional, ccy)}), over credit limit "
            f"{fmt_money(limit, ccy)} (account {order.account})",
            limit=fmt_money(limit, ccy),
            attempted=fmt_money(used, ccy),
        )
    return None
