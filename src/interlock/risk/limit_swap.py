"""Put new limits in force in a live book, between two decisions.

The checks read an account's compiled limits (`AccountBook.risk`) and a few numbers the
book caches; swapping them under the gateway lock is atomic for the order path: the
decision before saw the old limits, the one after sees the new ones. The windows keep
their history (the orders already counted still count); only their maxima change.
Only what risk/limit_paths.py can change is re-read: collars, rates and the duplicate
window are not changeable at run time.
"""

from __future__ import annotations

from collections import deque

from interlock.domain.money import to_micros
from interlock.risk.book import Book
from interlock.risk.limits import LimitsConfig, compile_account
from interlock.risk.windows import SlidingWindow


def _resized(w: SlidingWindow, count: int) -> None:
    if w.count != count:
        w.count = count
        w.stamps = deque(w.stamps, maxlen=count)  # the newest stamps: what a check reads


def swap_limits(book: Book, cfg: LimitsConfig) -> None:
    """Make `cfg` the book's limits: the firm's, and every account's compiled anew (an
    account first seen later compiles from `cfg` by itself). Under the gateway lock."""
    book.limits = cfg
    book.firm_gross_limit = to_micros(cfg.firm.max_gross_notional)
    book.apply_adv(book.adv_figures, book.adv_stale)  # the config's shares and bps anew
    for name, acct in book.accounts.items():
        risk = acct.risk = compile_account(name, cfg)
        w = acct.windows
        _resized(w.orders_s, risk.orders_per_second)
        _resized(w.orders_min, risk.orders_per_minute)
        w.notional_s.limit = risk.notional_per_second
        w.notional_min.limit = risk.notional_per_minute
