"""Value types of the order model. Imports nothing else of Interlock's."""

from interlock.domain.commands import OrderRequest, ParentOrder
from interlock.domain.decision import Decision
from interlock.domain.enums import (
    HaltScope,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
    TradingSession,
)
from interlock.domain.instrument import Instrument
from interlock.domain.order import Order
from interlock.domain.reject import RejectCode, Rejection

__all__ = [
    "Decision",
    "HaltScope",
    "Instrument",
    "Order",
    "OrderRequest",
    "OrderStatus",
    "OrderType",
    "ParentOrder",
    "RejectCode",
    "Rejection",
    "Side",
    "TimeInForce",
    "TradingSession",
]
