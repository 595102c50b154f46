"""Interlock: a market-access interlock between trading strategies and venues.

Nothing leaves for a venue unless every guard holds: schema, caller, instance gate,
kill switch, idempotency, pre-trade limits, and a durable journal record.
"""

__version__ = "0.1.0"
