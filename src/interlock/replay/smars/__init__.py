"""A SMARS-like order router in its two builds of 1 August 2012 (the replay's router code)."""

from interlock.replay.smars.base import Child, FlagReader, PowerPeg, Route, Router, Warn
from interlock.replay.smars.legacy import PowerPegRouter
from interlock.replay.smars.rlp import RlpRouter

__all__ = [
    "Child",
    "FlagReader",
    "PowerPeg",
    "PowerPegRouter",
    "RlpRouter",
    "Route",
    "Router",
    "Warn",
]
