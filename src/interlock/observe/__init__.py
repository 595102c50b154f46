"""Monitors that act by themselves: runaway detectors, the reject-storm breaker, and the
pre-open readiness gate."""

from interlock.observe.config import (
    MONITOR_NAMES,
    MonitorConfig,
    build_monitor,
    default_detectors,
)
from interlock.observe.decisions import DecisionRules, FillRatioRule, FlowRule, StormRule
from interlock.observe.detectors import (
    STOPPED,
    Detector,
    KillSwitch,
    RepeatedChild,
    RunawayMonitor,
    TradedNotional,
    Trip,
)
from interlock.observe.readiness import Alert, Page, PreOpenGate, Readiness

__all__ = [
    "MONITOR_NAMES",
    "STOPPED",
    "Alert",
    "DecisionRules",
    "Detector",
    "FillRatioRule",
    "FlowRule",
    "KillSwitch",
    "MonitorConfig",
    "Page",
    "PreOpenGate",
    "Readiness",
    "RepeatedChild",
    "RunawayMonitor",
    "StormRule",
    "TradedNotional",
    "Trip",
    "build_monitor",
    "default_detectors",
]
