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
from interlock.risk.exposure import worst_case


def check_gross(order: Order, acct: AccountBook, book: Book, now: int) -> Rejection | None:
    # the symbol's worst case with this order added, at the mark, minus what it counts now
    p = acct.positions.get(order.symbol)
    if p is None:
        worst, current = order.qty, 0
    else:
        long, short = worst_case(p.pos, p.open_buy, p.open_sell, order.sign * order.qty)
        worst, current = long if long > short else short, p.gross
    mark = book.marks.get(order.symbol, order.value_ticks)
    delta = worst * mark * order.instrument.tick_micros - current
    if delta <= 0:
        return None  # reduces or keeps risk: never refused on gross exposure
    acct_after = acct.gross + delta
    if acct_after > acct.risk.max_gross:
        return _over(f"account {order.account} gross exposure", acct_after, acct.risk.max_gross,
                     order)  # fmt: skip
    firm_after = book.firm.gross + delta
    if firm_after > book.firm_gross_limit:
        return _over("firm-wide gross exposure", firm_after, book.firm_gross_limit, order)
    return None


def _over(what: str, after: int, limit: int, order: Order) -> Rejection:
    ccy = order.instrument.currency
    return reject(
        RejectCode.GROSS_EXPOSURE_LIMIT,
        f"{what} would be {fmt_money(after, ccy)}, over limit {fmt_money(limit, ccy)}",
        limit=fmt_money(limit, ccy),
        attempted=fmt_money(after, ccy),
    )


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
