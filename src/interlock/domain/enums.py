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
    """Lifecycle of an accepted order as Interlock sees it.

    The open states come first and `WORKING` is the last of them: code tests `<= WORKING`
    for "still open". RELEASING is the hand-over: durable, being passed to `venue.send`.
    A cancel or halt that finds it there marks it CANCEL_ON_RELEASE, never sends a cancel
    the venue could not match; the release loop then cancels it at the venue once `send`
    returned, or cancels it in place if it had not been sent yet.
    """

    PENDING = 0  # decided, journal record not yet durable, not yet at the venue
    RELEASING = 1  # durable, being handed to the venue (it may or may not have it yet)
    CANCEL_ON_RELEASE = 2  # as RELEASING, and to be cancelled the moment the venue has it
    WORKING = 3  # at the venue
    FILLED = 4
    CANCELLED = 5
    VENUE_REJECTED = 6

    @property
    def is_open(self) -> bool:
        return self <= OrderStatus.WORKING
