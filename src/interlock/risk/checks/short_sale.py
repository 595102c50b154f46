"""SHORT_MARKING and NO_LOCATE: Reg SHO Rules 200(g) and 203(b), the rules Knight's
runaway broke beside 15c3-5.

A `sell` is a long sale: it must be covered by what the account holds in the symbol net
of every open sale (of either marking: each could fill first), so splitting it into many
small sells never sells more than the position. An agency account
(`limits.short_sale.agency_accounts`) sells its customers' shares: the child of a declared
customer sell parent is covered by that parent's shares not yet filled or working (so a
runaway's children past the parent are mis-marked too). A `sell_short` needs a locate of the
account in force for its whole quantity, net of what open short sales hold, unless the
symbol is on the day's easy-to-borrow list (risk/locates.py).
"""

from __future__ import annotations

from interlock.domain.enums import Side
from interlock.domain.order import Order
from interlock.domain.reject import RejectCode, Rejection, reject
from interlock.risk.book import AccountBook, Book

_SELL = Side.SELL
_SELL_SHORT = Side.SELL_SHORT


def check_short_marking(order: Order, acct: AccountBook, book: Book, now: int) -> Rejection | None:
    if order.side is not _SELL:
        return None
    if order.parent_id is not None and order.account in book.agency_accounts:
        return _agency_sale(order, book)
    p = acct.positions.get(order.symbol)
    pos, open_sell = (p.pos, p.open_sell) if p is not None else (0, 0)
    covered = pos - open_sell
    if order.qty <= covered:
        return None
    return reject(
        RejectCode.SHORT_MARKING,
        f"sell of {order.qty:,} {order.symbol} is marked long but account {order.account} "
        f"holds {pos:,} with {open_sell:,} already on open sales, so at most "
        f"{max(covered, 0):,} may be sold long; mark it sell_short (with a locate)",
        limit=max(covered, 0),
        attempted=order.qty,
    )


def _agency_sale(order: Order, book: Book) -> Rejection | None:
    """An agency account's child of a customer's sell parent sells the customer's shares:
    covered by what of the parent is neither filled nor working, never by the account's."""
    ps = book.parents.get(order.parent_id)  # type: ignore[arg-type]
    parent = ps.parent if ps is not None else None
    if (
        ps is not None
        and parent is not None
        and parent.side is _SELL
        and parent.account == order.account
        and parent.symbol == order.symbol
    ):
        covered = parent.quantity - ps.filled - ps.open
        if order.qty <= covered:
            return None
        held = f"customer sell parent {order.parent_id} has {max(covered, 0):,} shares unsold"
    else:
        covered = 0
        held = f"{order.parent_id} is no declared customer sale of {order.symbol}"
    return reject(
        RejectCode.SHORT_MARKING,
        f"sell of {order.qty:,} {order.symbol} is marked long for a customer of agency "
        f"account {order.account} but {held}, so at most {max(covered, 0):,} may be sold "
        "long; mark it sell_short (with a locate)",
        limit=max(covered, 0),
        attempted=order.qty,
    )


def check_locate(order: Order, acct: AccountBook, book: Book, now: int) -> Rejection | None:
    if order.side is not _SELL_SHORT or order.symbol in book.easy_to_borrow:
        return None
    available = book.locates.available(order.account, order.symbol, now)
    if order.qty <= available:
        return None
    return reject(
        RejectCode.NO_LOCATE,
        f"short sale of {order.qty:,} {order.symbol} over the {available:,} shares located "
        f"for account {order.account} and in force (not expired, not held by open short "
        f"sales); {order.symbol} is not on the easy-to-borrow list",
        limit=available,
        attempted=order.qty,
    )
