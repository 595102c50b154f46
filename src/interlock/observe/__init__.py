"""Monitors that act by themselves: runaway detectors, the reject-storm breaker, and the
pre-open readiness gate."""

from interlock.observe.config import MONITOR_NAMES, MonitorConfig, build_monitor
from interlock.observe.detectors import (
    STOPPED,
    AccountFlow,
    Detector,
    KillSwitch,
    OrderToFillRatio,
    RejectStorm,
    RepeatedChild,
    RunawayMonitor,
    TradedNotional,
    Trip,
    default_detectors,
)
from interlock.observe.readiness import Alert, Page, PreOpenGate, Readiness

__all__ = [
    "MONITOR_NAMES",
    "STOPPED",
    "AccountFlow",
    "Alert",
    "Detector",
    "KillSwitch",
    "MonitorConfig",
    "OrderToFillRatio",
    "Page",
    "PreOpenGate",
    "Readiness",
    "RejectStorm",
    "RepeatedChild",
    "RunawayMonitor",
    "TradedNotional",
    "Trip",
    "build_monitor",
    "default_detectors",
]
