"""REFERENCE_PRICE_STALE and PRICE_COLLAR: every order is judged against a fresh reference.

Knight's collar skipped opening-auction orders; here the collar applies in every session,
and with no fresh reference nothing is collared, so nothing goes out: fail closed.
"""

from __future__ import annotations

from interlock.domain.order import Order
from interlock.domain.reject import RejectCode, Rejection, reject
from interlock.risk.book import AccountBook, Book

_NS_PER_MS = 1_000_000


def check_reference_fresh(
    order: Order, acct: AccountBook, book: Book, now: int
) -> Rejection | None:
    ref = book.refs.get(order.symbol)
    if ref is not None and 0 <= now - ref.ts <= book.ref_max_age_ns and ref.ticks > 0:
        return None
    max_age_ms = book.limits.collar.reference_max_age_ms
    if ref is None or ref.ticks <= 0:
        return reject(
            RejectCode.REFERENCE_PRICE_STALE,
            f"no reference price for {order.symbol}; max age {max_age_ms:,} ms",
            limit=f"{max_age_ms} ms",
            attempted="none",
        )
    age_ms = (now - ref.ts) // _NS_PER_MS
    return reject(
        RejectCode.REFERENCE_PRICE_STALE,
        f"reference price for {order.symbol} is {age_ms:,} ms old, over max age {max_age_ms:,} ms",
        limit=f"{max_age_ms} ms",
        attempted=f"{age_ms} ms",
    )


def check_collar(order: Order, acct: AccountBook, book: Book, now: int) -> Rejection | None:
    if order.is_market:
        return None
    bps = book.collar_bps[order.session]
    reference = book.refs.get(order.symbol)
    if reference is None or reference.ticks <= 0:
        return reject(
            RejectCode.PRICE_COLLAR,
            f"no reference price for {order.symbol} to collar against ({bps} bps)",
            limit=f"{bps} bps",
            attempted="no reference",
        )
    ref = reference.ticks
    away = abs(order.price - ref)
    if away * 10_000 > bps * ref:
        inst = order.instrument
        return reject(
            RejectCode.PRICE_COLLAR,
            f"limit {inst.to_price(order.price)} is {away * 100 / ref:.2f}% from reference "
            f"{inst.to_price(ref)}, over collar {bps / 100:g}% "
            f"({order.session or 'closed'}, {order.symbol})",
            limit=f"{bps} bps",
            attempted=f"{away * 10_000 // ref} bps",
        )
    return None
