"""Locates (Reg SHO Rule 203(b)): borrowable shares an operator has arranged, per account.

A locate belongs to one account (the account the borrow was arranged for): another
account's short sale can never use it, whatever its strategy or session label. A firm
that arranges a borrow for several accounts adds one locate for each. A locate is in
force from when it is added until `expires_ns` (the gateway clock, never the caller's).

Its quantity is split three ways: `used` by short-sale fills, `reserved` by open short-sale
orders (so two open orders can never both count on the same shares), and what is left.
Every change is made by the book's `apply_*` fold (risk/book.py), from journaled records
only (`LocateAdded`, the order's acceptance, its fills and its end), so a restart rebuilds
each locate's remaining quantity exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class Locate:
    locate_id: str
    account: str
    symbol: str
    quantity: int
    expires_ns: int
    source: str  # who lent or will lend the shares (prime broker, stock-loan desk)
    who: str  # the operator who added it
    used: int = 0
    reserved: int = 0

    def free(self, now: int) -> int:
        """Shares still available to a new short sale at `now` (0 once expired)."""
        if now >= self.expires_ns:
            return 0
        return self.quantity - self.used - self.reserved


@dataclass(slots=True)
class Hold:
    """Shares of one locate an open short sale holds."""

    locate: Locate
    qty: int


@dataclass
class Locates:
    """Every locate by id, and by (account, symbol) for the check's O(1) lookup; what each
    open short sale holds of which locate."""

    by_id: dict[str, Locate] = field(default_factory=dict)
    by_line: dict[tuple[str, str], list[Locate]] = field(default_factory=dict)
    held: dict[int, list[Hold]] = field(default_factory=dict)  # by order id

    def add(self, locate: Locate) -> None:
        if locate.locate_id in self.by_id:
            return  # the gateway refuses a reused id before it journals; a fold keeps the first
        self.by_id[locate.locate_id] = locate
        self.by_line.setdefault((locate.account, locate.symbol), []).append(locate)

    def available(self, account: str, symbol: str, now: int) -> int:
        line = self.by_line.get((account, symbol))
        if line is None:
            return 0
        return sum(loc.free(now) for loc in line)

    def reserve(self, order_id: int, account: str, symbol: str, qty: int, now: int) -> None:
        """Hold up to `qty` shares for an accepted short sale, earliest expiry first."""
        line = self.by_line.get((account, symbol))
        if line is None:
            return
        holds: list[Hold] = []
        for loc in sorted(line, key=_expiry):
            if qty <= 0:
                break
            take = min(qty, loc.free(now))
            if take > 0:
                loc.reserved += take
                holds.append(Hold(loc, take))
                qty -= take
        if holds:
            self.held[order_id] = holds

    def consume(self, order_id: int, qty: int) -> None:
        """A fill of `qty`: move that much of the order's holds from reserved to used."""
        holds = self.held.get(order_id)
        if holds is None:
            return
        for h in holds:
            if qty <= 0:
                break
            take = min(qty, h.qty)
            h.locate.reserved -= take
            h.locate.used += take
            h.qty -= take
            qty -= take
        if all(h.qty == 0 for h in holds):
            del self.held[order_id]

    def release(self, order_id: int) -> None:
        """The order ended (cancelled, rejected, filled): give back what it still holds."""
        for h in self.held.pop(order_id, ()):
            h.locate.reserved -= h.qty


def _expiry(loc: Locate) -> int:
    return loc.expires_ns
