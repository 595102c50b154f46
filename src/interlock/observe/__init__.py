"""Monitors that act by themselves: runaway detectors, the reject-storm breaker, and the
pre-open readiness gate."""

from interlock.observe.detectors import (
    STOPPED,
    Detector,
    KillSwitch,
    OrderToFillRatio,
    RejectStorm,
    RepeatedChild,
    RunawayMonitor,
    Trip,
    default_detectors,
)
from interlock.observe.readiness import Alert, Page, PreOpenGate, Readiness

__all__ = [
    "STOPPED",
    "Alert",
    "Detector",
    "KillSwitch",
    "OrderToFillRatio",
    "Page",
    "PreOpenGate",
    "Readiness",
    "RejectStorm",
    "RepeatedChild",
    "RunawayMonitor",
    "Trip",
    "default_detectors",
]
