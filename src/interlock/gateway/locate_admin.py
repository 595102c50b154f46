"""Adding a locate (an operator's command, admin `POST /locates`): the refusal, if any.

The gateway journals an accepted locate as `LocateAdded` and applies it through the book,
so a restart folds it back with the short sales that used it (risk/locates.py). A locate
id names one locate for good: the same terms again change nothing, other terms are
refused (LOCATE_CONFLICT). A locate must name a traded account and a listed symbol, a
positive quantity, and expire after now.
"""

from __future__ import annotations

from interlock.domain.events import LocateAdded
from interlock.domain.reject import RejectCode, Rejection, reject
from interlock.risk.book import Book


def _terms(account: str, symbol: str, quantity: int, expires_ns: int, source: str) -> str:
    return f"{account} {quantity:,} {symbol} until {expires_ns} from {source}"


def locate_refusal(book: Book, accounts: frozenset[str], ev: LocateAdded) -> Rejection | None:
    """Why `ev` may not be added, or None: it may (or it is the same locate again, which
    the caller then need not journal)."""
    if (
        not ev.locate_id
        or ev.account not in accounts
        or ev.symbol not in book.instruments
        or ev.quantity <= 0
        or ev.expires_ns <= ev.ts
        or not ev.source
    ):
        return reject(
            RejectCode.SCHEMA_INVALID,
            f"locate {ev.locate_id!r} needs an id, a traded account, a listed symbol, a "
            "positive quantity, a source and an expiry after now",
            limit="id, known account and symbol, quantity > 0, source, future expiry",
            attempted=_terms(ev.account, ev.symbol, ev.quantity, ev.expires_ns, ev.source),
        )
    known = book.locates.by_id.get(ev.locate_id)
    if known is None:
        return None
    first = _terms(known.account, known.symbol, known.quantity, known.expires_ns, known.source)
    asked = _terms(ev.account, ev.symbol, ev.quantity, ev.expires_ns, ev.source)
    if first == asked:
        return None
    return reject(
        RejectCode.LOCATE_CONFLICT,
        f"locate {ev.locate_id} is already added as {first}",
        limit="one locate per locate id",
        attempted=asked,
    )
