"""Small closed vocabularies of the order model."""

from __future__ import annotations

from enum import IntEnum, StrEnum


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"
    SELL_SHORT = "sell_short"

    @property
    def sign(self) -> int:
        """+1 for a buy, -1 for either kind of sale: the direction of the position change."""
        return 1 if self is Side.BUY else -1


class OrderType(StrEnum):
    MARKET = "market"
    LIMIT = "limit"


class TimeInForce(StrEnum):
    DAY = "day"
    IOC = "ioc"
    FOK = "fok"
    GTC = "gtc"
    AT_THE_OPEN = "opg"


class TradingSession(StrEnum):
    """The market phase an order is meant for; collars apply in every one of them."""

    PRE_OPEN = "pre_open"
    OPENING_AUCTION = "opening_auction"
    CONTINUOUS = "continuous"


class HaltScope(StrEnum):
    """What a kill-switch record covers. `target` is empty for GLOBAL."""

    GLOBAL = "global"
    ACCOUNT = "account"
    STRATEGY = "strategy"
    SYMBOL = "symbol"
    INSTANCE = "instance"


class OrderStatus(IntEnum):
    """Lifecycle of an accepted order as Interlock sees it."""

    PENDING = 0  # decided, journal record not yet durable, not yet at the venue
    WORKING = 1  # released to the venue
    FILLED = 2
    CANCELLED = 3
    VENUE_REJECTED = 4

    @property
    def is_open(self) -> bool:
        return self <= OrderStatus.WORKING
