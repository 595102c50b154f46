"""Venues: the ports orders leave through, and a seeded simulated exchange behind them."""

from interlock.venue.base import ExecutionSink, Venue
from interlock.venue.market import MarketModel
from interlock.venue.simulated import SimulatedVenue

__all__ = ["ExecutionSink", "MarketModel", "SimulatedVenue", "Venue"]
