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
from interlock.observe.detectors import (
    AccountFlow,
    Detector,
    KillSwitch,
    OrderToFillRatio,
    RejectStorm,
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
    off = frozenset(disabled)
    c = config
    made: list[Detector] = [
        RepeatedChild(c.repeated_child.count, c.repeated_child.window_ms),
        OrderToFillRatio(c.order_to_fill.max_ratio, c.order_to_fill.min_orders,
                         c.order_to_fill.window_ms),
        AccountFlow(c.account_flow.max_orders, c.account_flow.instance_max_orders,
                    c.account_flow.window_ms),
        TradedNotional(to_micros(c.traded_notional.max_notional), c.traded_notional.window_ms),
        RejectStorm(c.reject_storm.min_rejects, c.reject_storm.share, c.reject_storm.window_ms,
                    c.reject_storm.instance_min_rejects),
    ]  # fmt: skip
    return [d for d in made if d.name not in off]


def build_monitor(
    config: MonitorConfig, kill: KillSwitch, disabled: Iterable[str] = ()
) -> RunawayMonitor:
    return RunawayMonitor(detectors(config, disabled), kill)
