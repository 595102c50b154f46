"""The best working buy and sell of each (group, symbol): what self-trade prevention reads.

A group is a set of accounts of one firm (config `limits.self_trade.groups`); an account in
no group is a group of its own. Each side keeps a count of open orders per price and its
best price, so the crossing test is two dict reads and one comparison; the best is only
searched again when the last order at it leaves. A market buy rests at `MARKET_BUY` (above
every price) and a market sell at 0 (below every price): market orders cross everything.
Maintained by `Book.apply_accept`/`apply_fill`/`apply_done`, so replay rebuilds it.
"""

from __future__ import annotations

from interlock.domain.order import Order

MARKET_BUY = 2**62
"""Where a working market buy stands: above every limit price."""


class SideLevels:
    """One side of a (group, symbol): open orders per price, and the best of those prices."""

    __slots__ = ("best", "counts", "top")

    def __init__(self, top: bool) -> None:
        self.top = top  # buys: the best is the highest price; sells: the lowest
        self.counts: dict[int, int] = {}
        self.best = 0

    def remove(self, price: int) -> None:
        counts = self.counts
        n = counts.get(price, 0) - 1
        if n > 0:
            counts[price] = n
            return
        counts.pop(price, None)
        if counts and price == self.best:
            self.best = max(counts) if self.top else min(counts)


class Levels:
    """One (group, symbol): its working buys and sells."""

    __slots__ = ("buys", "sells")

    def __init__(self) -> None:
        self.buys = SideLevels(top=True)
        self.sells = SideLevels(top=False)


def resting_price(order: Order) -> int:
    if not order.is_market:
        return order.price
    return MARKET_BUY if order.sign > 0 else 0


class CrossBook:
    __slots__ = ("by_account", "group_of", "levels")

    def __init__(self, group_of: dict[str, str]) -> None:
        self.group_of = group_of  # account -> group; missing: the account itself
        self.levels: dict[str, dict[str, Levels]] = {}  # group -> symbol -> levels
        self.by_account: dict[str, dict[str, Levels]] = {}  # account -> its group's levels

    def group(self, account: str) -> str:
        return self.group_of.get(account, account)

    def _of(self, account: str) -> dict[str, Levels]:
        """The symbol -> levels map of `account`'s group, shared by all its accounts."""
        group = self.group_of.get(account, account)
        by_symbol = self.levels.get(group)
        if by_symbol is None:
            by_symbol = self.levels[group] = {}
        self.by_account[account] = by_symbol
        return by_symbol

    def add(self, order: Order) -> None:
        """A new open order (inline: this runs on every accept)."""
        by_symbol = self.by_account.get(order.account) or self._of(order.account)
        lv = by_symbol.get(order.symbol)
        if lv is None:
            lv = by_symbol[order.symbol] = Levels()
        if order.sign > 0:
            side, price = lv.buys, MARKET_BUY if order.is_market else order.price
            better = price > side.best
        else:
            side, price = lv.sells, 0 if order.is_market else order.price
            better = price < side.best
        counts = side.counts
        n = counts.get(price)
        if n is None:
            if better or not counts:
                side.best = price
            counts[price] = 1
        else:
            counts[price] = n + 1

    def remove(self, order: Order) -> None:
        by_symbol = self.by_account.get(order.account) or self._of(order.account)
        lv = by_symbol.get(order.symbol)
        if lv is not None:
            (lv.buys if order.sign > 0 else lv.sells).remove(resting_price(order))

    def crossed(self, order: Order) -> int | None:
        """The best opposite price of the order's group that `order` would trade with
        (ticks; 0 or MARKET_BUY for a market order), or None: no self-trade."""
        by_symbol = self.by_account.get(order.account)
        if by_symbol is None:  # the account's first order: its group may have others
            by_symbol = self.levels.get(self.group_of.get(order.account, order.account))
            if by_symbol is None:
                return None
        lv = by_symbol.get(order.symbol)
        if lv is None:
            return None
        if order.sign > 0:
            side = lv.sells
            if side.counts and (order.is_market or side.best <= order.price):
                return side.best
            return None
        side = lv.buys
        if side.counts and (order.is_market or side.best >= order.price):
            return side.best
        return None

    def crosses(self, order: Order, resting: Order) -> bool:
        """True if open `resting` is of the group and symbol of `order`, on the other side,
        at a price `order` would trade with."""
        if resting.sign == order.sign or resting.symbol != order.symbol:
            return False
        if self.group(resting.account) != self.group(order.account):
            return False
        if order.is_market or resting.is_market:
            return True
        return resting.price <= order.price if order.sign > 0 else resting.price >= order.price
