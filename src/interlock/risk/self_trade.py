"""The best working buy and sell of each (group, symbol): what self-trade prevention reads.

A group is a set of accounts of one firm (config `limits.self_trade.groups`); an account in
no group is a group of its own. Each side keeps a count of open orders per price and its
best price, so the crossing test is two dict reads and one comparison; the best is only
searched again when the last order at it leaves. A market buy rests at `MARKET_BUY` (above
every price) and a market sell at 0 (below every price): market orders cross everything.
Maintained by `Book.apply_accept`/`apply_fill`/`apply_done`, so replay rebuilds it.

A (group, symbol)'s levels are one list, `[buy counts, best buy, sell counts, best sell]`
(indexed by `BUYS`, `BEST_BUY`, `SELLS`, `BEST_SELL`), not an object of objects: a
desk's first order in a symbol builds it, and that happens on the order path.
"""

from __future__ import annotations

from typing import Any, TypeAlias

from interlock.domain.order import Order

MARKET_BUY = 2**62
"""Where a working market buy stands: above every limit price."""
BUYS, BEST_BUY, SELLS, BEST_SELL = 0, 1, 2, 3
Levels: TypeAlias = list[Any]  # [dict[int, int], int, dict[int, int], int]: see above


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
            lv = by_symbol[order.symbol] = [{}, 0, {}, 0]
        if order.sign > 0:
            counts, price = lv[BUYS], MARKET_BUY if order.is_market else order.price
            if not counts or price > lv[BEST_BUY]:
                lv[BEST_BUY] = price
        else:
            counts, price = lv[SELLS], 0 if order.is_market else order.price
            if not counts or price < lv[BEST_SELL]:
                lv[BEST_SELL] = price
        counts[price] = counts.get(price, 0) + 1

    def remove(self, order: Order) -> None:
        """An order no longer open (filled, cancelled, rejected by the venue)."""
        by_symbol = self.by_account.get(order.account) or self._of(order.account)
        lv = by_symbol.get(order.symbol)
        if lv is None:
            return
        side = BUYS if order.sign > 0 else SELLS
        counts, price = lv[side], resting_price(order)
        n = counts.get(price, 0) - 1
        if n > 0:
            counts[price] = n
            return
        counts.pop(price, None)
        if counts and price == lv[side + 1]:
            lv[side + 1] = max(counts) if side == BUYS else min(counts)

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
            best = lv[BEST_SELL]
            if lv[SELLS] and (order.is_market or best <= order.price):
                return best  # type: ignore[no-any-return]
            return None
        best = lv[BEST_BUY]
        if lv[BUYS] and (order.is_market or best >= order.price):
            return best  # type: ignore[no-any-return]
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
