"""The monitors' thresholds (config section `[monitors]`), and the one place that builds them.

Every instance runs every monitor; config tunes thresholds, it cannot switch one off (only
the replay's defence-in-depth runs do, by name, through `Gateway(disabled_checks=...)`).
Defaults fit the small desk the packaged config describes: a few hundred orders a minute.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictInt

from interlock.domain.money import to_micros
from interlock.observe.decisions import DecisionRules, FillRatioRule, FlowRule, StormRule
from interlock.observe.detectors import (
    Detector,
    KillSwitch,
    RepeatedChild,
    RunawayMonitor,
    TradedNotional,
)
from interlock.risk.limits import Money


def _number(v: object) -> object:
    """A share or ratio is a TOML number: never a boolean or a string."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ValueError(f"must be a number, got {type(v).__name__} {v!r}")
    return v


WindowMs = Annotated[
    StrictInt, Field(gt=0, le=3_600_000, description="sliding window, milliseconds")
]
Ratio = Annotated[float, BeforeValidator(_number)]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RepeatedChildConfig(_Model):
    count: StrictInt = Field(10, ge=2, description="identical accepted children that trip it")
    window_ms: WindowMs = 2_000


class OrderToFillConfig(_Model):
    max_ratio: Ratio = Field(5.0, gt=1, description="accepted orders per fill that trip it")
    min_orders: StrictInt = Field(
        100, gt=0, description="accepted orders in the window before it judges"
    )
    window_ms: WindowMs = 2_000


class AccountFlowConfig(_Model):
    max_orders: StrictInt = Field(
        100, gt=0, description="orders of one account the window may hold"
    )
    instance_max_orders: StrictInt = Field(
        150, gt=0, description="orders of the whole instance the window may hold"
    )
    window_ms: WindowMs = 1_000


class TradedNotionalConfig(_Model):
    max_notional: Money = Field(
        Decimal(10_000_000), description="money one account may fill inside the window"
    )
    window_ms: WindowMs = 10_000


class RejectStormConfig(_Model):
    min_rejects: StrictInt = Field(
        100, gt=0, description="risk refusals of one account that trip it"
    )
    instance_min_rejects: StrictInt = Field(
        200, gt=0, description="risk refusals of the whole instance that trip it"
    )
    share: Ratio = Field(0.5, gt=0, le=1, description="refusals as a share of orders, at least")
    window_ms: WindowMs = 1_000


class MonitorConfig(_Model):
    repeated_child: RepeatedChildConfig = RepeatedChildConfig()
    order_to_fill: OrderToFillConfig = OrderToFillConfig()
    account_flow: AccountFlowConfig = AccountFlowConfig()
    traded_notional: TradedNotionalConfig = TradedNotionalConfig()
    reject_storm: RejectStormConfig = RejectStormConfig()


MONITOR_NAMES = frozenset(
    {"repeated_child", "order_to_fill", "account_flow", "traded_notional", "reject_storm"}
)


def detectors(config: MonitorConfig, disabled: Iterable[str] = ()) -> list[Detector]:
    """Every monitor of `config`, but those named in `disabled`."""
    off = frozenset(disabled)
    c = config
    f, r, s = c.account_flow, c.order_to_fill, c.reject_storm
    rules = DecisionRules(
        FlowRule(f.max_orders, f.instance_max_orders, f.window_ms)
        if "account_flow" not in off else None,
        FillRatioRule(r.max_ratio, r.min_orders, r.window_ms)
        if "order_to_fill" not in off else None,
        StormRule(s.min_rejects, s.share, s.window_ms, s.instance_min_rejects)
        if "reject_storm" not in off else None,
    )  # fmt: skip
    made: list[Detector] = []
    if "repeated_child" not in off:
        made.append(RepeatedChild(c.repeated_child.count, c.repeated_child.window_ms))
    if rules.flow or rules.fill_ratio or rules.storm:
        made.append(rules)
    if "traded_notional" not in off:
        made.append(TradedNotional(to_micros(c.traded_notional.max_notional),
                                   c.traded_notional.window_ms))  # fmt: skip
    return made


def default_detectors() -> list[Detector]:
    """The monitors with their default thresholds."""
    return detectors(MonitorConfig())


def build_monitor(
    config: MonitorConfig, kill: KillSwitch, disabled: Iterable[str] = ()
) -> RunawayMonitor:
    return RunawayMonitor(detectors(config, disabled), kill)
