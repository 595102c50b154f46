"""FIX 4.4 market data, both ways: MarketDataRequest (V) out, snapshots (W) and incremental
refreshes (X) in, folded into one mark per symbol.

Venue sessions frame the groups with a small dictionary (dictionary.py); we read a
message's fields in order from one `toString()`. Every MDEntry we read carries
MDEntryType (269) and MDEntryPx (270) (and Symbol (55) in X), so the i-th 269 belongs
with the i-th 270 whether the entries come interleaved or (parsed with no dictionary)
sorted by tag: entries are zipped by index. A message whose counts do not match is
undecodable and ignored (logged), never half-applied.

A mark is the mid of the best bid and offer when both are known, else the last trade.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import quickfix as fix

from interlock.fixengine.engine import new_message

BID, OFFER, TRADE = "0", "1", "2"


def market_data_request(req_id: str, symbols: Iterable[str]) -> fix.Message:
    """V: snapshot plus updates (263=1) of the top of book (264=1), bid, offer and trade."""
    msg = new_message("V")
    msg.setField(262, req_id)
    msg.setField(263, "1")
    msg.setField(264, "1")
    msg.setField(265, "1")  # incremental refresh
    for kind in (BID, OFFER, TRADE):
        group = fix.Group(267, 269)
        group.setField(269, kind)
        msg.addGroup(group)
    for symbol in symbols:
        group = fix.Group(146, 55)
        group.setField(55, symbol)
        msg.addGroup(group)
    return msg


def pairs(message: fix.Message) -> list[tuple[int, str]]:
    """Every (tag, value) of `message` in wire order, duplicates kept."""
    out: list[tuple[int, str]] = []
    for part in message.toString().split("\x01"):
        tag, _, value = part.partition("=")
        if tag.isdigit():
            out.append((int(tag), value))
    return out


def values(fields: list[tuple[int, str]], tag: int) -> list[str]:
    return [v for t, v in fields if t == tag]


@dataclass(frozen=True, slots=True)
class Entry:
    symbol: str
    kind: str
    price: Decimal


def entries(message: fix.Message, kind: str) -> list[Entry] | None:
    """The MDEntries of a W (`kind` "W": one Symbol for all) or X ("X": one per entry);
    None when the message cannot be decoded."""
    fields = pairs(message)
    types, prices = values(fields, 269), values(fields, 270)
    symbols = values(fields, 55)
    if len(types) != len(prices) or not symbols:
        return None
    if kind == "W":
        symbols = symbols[:1] * len(types)
    elif len(symbols) != len(types):
        return None
    try:
        return [Entry(s, t, Decimal(p)) for s, t, p in zip(symbols, types, prices, strict=True)]
    except InvalidOperation:
        return None


class MarkBook:
    """Best bid, offer and last trade per symbol, in ticks."""

    def __init__(self) -> None:
        self._books: dict[str, dict[str, int]] = {}

    def reset(self, symbol: str) -> None:
        """A snapshot replaces what was known of `symbol`."""
        self._books.pop(symbol, None)

    def apply(self, symbol: str, kind: str, ticks: int) -> None:
        if kind in (BID, OFFER, TRADE):
            self._books.setdefault(symbol, {})[kind] = ticks

    def mark(self, symbol: str) -> int | None:
        book = self._books.get(symbol, {})
        bid, offer = book.get(BID), book.get(OFFER)
        if bid is not None and offer is not None and 0 < bid <= offer:
            return (bid + offer) // 2
        return book.get(TRADE)
