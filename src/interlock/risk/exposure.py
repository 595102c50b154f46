"""Worst-case exposure of one line (account, symbol): the one formula.

The book's gross exposure, the position check, the gross-exposure check and the fleet
budget's need all ask the same question: how far could this line go, long or short, if
the open orders fill? They ask it here, so the four can never drift apart.

It is on the hot path (position and gross run on every order; the book re-grosses on
every accept, fill and mark), so it takes plain integers, not a Position, and returns
both figures from one call: a Python call costs about what the formula does.
"""

from __future__ import annotations


def worst_case(pos: int, open_buy: int, open_sell: int, signed_qty: int) -> tuple[int, int]:
    """(worst long, worst short) shares of a line with `signed_qty` more on order.

    Worst long is the position once every open buy (and a buy of `signed_qty` > 0) fills:
    `pos + open_buy + buy`; worst short is the short once every open sale (and a sale of
    `-signed_qty` > 0) fills: `open_sell - pos + sell`. Open quantities are never negative,
    so the larger of the two is max(|position after all buys|, |position after all
    sales|), the line's worst absolute position, and never below zero.
    """
    if signed_qty > 0:
        return pos + open_buy + signed_qty, open_sell - pos
    return pos + open_buy, open_sell - pos - signed_qty
