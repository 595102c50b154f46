"""The risk engine: the pre-trade checks in one fixed order, cheapest first.

It stops at the first rejection. The order of CHECKS is DESIGN.md's, except that the
reference price is checked for freshness before anything values the order with it, and
the session (market closed, label mismatch) comes first: nothing else matters outside one.
The ADV share and the Reg SHO checks (short-sale marking, locate) follow the collar: each
is a dict lookup or two (the locate check sums the account's few locates in the symbol).
A check can be switched off by name (the Knight replay's defence-in-depth runs do so);
the default is every check on.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from interlock.domain.order import Order
from interlock.domain.reject import Rejection
from interlock.risk.book import Book
from interlock.risk.checks import Check
from interlock.risk.checks.adv import check_adv
from interlock.risk.checks.duplicate import check_duplicate
from interlock.risk.checks.exposure import check_credit, check_gross
from interlock.risk.checks.loss import check_loss
from interlock.risk.checks.market_orders import check_market_order
from interlock.risk.checks.messages import check_message_rate
from interlock.risk.checks.order_size import check_max_notional, check_max_qty
from interlock.risk.checks.order_to_trade import check_order_to_trade
from interlock.risk.checks.parent import check_parent
from interlock.risk.checks.position import check_position
from interlock.risk.checks.rate import check_rate
from interlock.risk.checks.reference import check_collar, check_reference_fresh
from interlock.risk.checks.restricted import check_restricted
from interlock.risk.checks.self_trade import check_self_trade
from interlock.risk.checks.session import check_session
from interlock.risk.checks.short_sale import check_locate, check_short_marking

CHECKS: tuple[tuple[str, Check], ...] = (
    ("session", check_session),
    ("restricted_symbol", check_restricted),
    ("market_order", check_market_order),
    ("max_order_qty", check_max_qty),
    ("reference_fresh", check_reference_fresh),
    ("max_order_notional", check_max_notional),
    ("price_collar", check_collar),
    ("adv_limit", check_adv),
    ("short_marking", check_short_marking),
    ("locate", check_locate),
    ("duplicate_order", check_duplicate),
    ("rate_limit", check_rate),
    ("parent_overfill", check_parent),
    ("position_limit", check_position),
    ("gross_exposure", check_gross),
    ("credit_limit", check_credit),
    ("loss_limit", check_loss),
    ("self_trade", check_self_trade),
    ("message_rate", check_message_rate),
    ("order_to_trade", check_order_to_trade),
)
CHECK_NAMES = frozenset(name for name, _ in CHECKS)


class Candidate(Protocol):
    """What the checks judge: a decoded order, at the time of the decision (ns)."""

    order: Order
    now: int


class RiskEngine:
    __slots__ = ("_checks", "book", "disabled")

    def __init__(self, book: Book, disabled: Iterable[str] = ()) -> None:
        self.book = book
        self.disabled = frozenset(disabled)
        unknown = self.disabled - CHECK_NAMES
        if unknown:
            raise ValueError(f"unknown checks {sorted(unknown)}; known: {sorted(CHECK_NAMES)}")
        self._checks = tuple(fn for name, fn in CHECKS if name not in self.disabled)

    def check(self, candidate: Candidate) -> Rejection | None:
        """The first rejection among the enabled checks, or None: the order may go. Takes
        the gateway's order context as it is, so the order path calls it as a stage."""
        order, now = candidate.order, candidate.now
        book = self.book
        acct = book.accounts.get(order.account) or book.account(order.account)  # C first
        for fn in self._checks:
            r = fn(order, acct, book, now)
            if r is not None:
                return r
        return None
