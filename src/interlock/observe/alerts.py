"""Alert rules, evaluated in-process on a timer (gateway/alerting.py runs them in serve).

The same five rules ship as a Prometheus rules file (deploy/prometheus/interlock-rules.yml)
with the default thresholds below, so a desk with Prometheus and one without see the same
alerts. Each rule compares two samples of the instance's counters, `window_ms` apart, or
reads a gauge of the newest:

    reject_rate        refusals over decisions in the window >= share, with at least
                       min_decisions decided (a spike of refusals: a strategy gone wrong)
    order_to_fill      accepted orders over fills in the window > max_ratio, with at least
                       min_orders accepted (orders that do not fill are orders not needed)
    repeated_children  the repeated-child monitor tripped in the window
    lease_age          the lease was last renewed more than max_age_ms ago
    journal_lag        more than max_records appended and not yet durable, or the journal
                       unavailable

A rule with `halt_scope` set also pulls the kill switch for that scope (`halt_target`, or
this instance for `instance`) when it fires. Pure: the sampling and the halt are the
gateway's.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, StrictInt, model_validator

from interlock.domain.enums import HaltScope


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class _Rule(_Model):
    halt_scope: HaltScope | None = Field(
        None, description="when it fires, also halt this scope (none: alert only)"
    )
    halt_target: str = Field(
        "", description="the halt's target: account, strategy or symbol name (instance: this)"
    )

    @model_validator(mode="after")
    def _target(self) -> _Rule:
        needs = (HaltScope.ACCOUNT, HaltScope.STRATEGY, HaltScope.SYMBOL)
        if self.halt_scope in needs and not self.halt_target:
            raise ValueError(f"halt_scope {self.halt_scope} needs a halt_target")
        return self


class RejectRateRule(_Rule):
    share: float = Field(0.5, gt=0, le=1, description="refusals as a share of decisions")
    min_decisions: StrictInt = Field(60, gt=0, description="decisions in the window to judge")


class OrderToFillRule(_Rule):
    max_ratio: float = Field(20.0, gt=1, description="accepted orders per fill, at most")
    min_orders: StrictInt = Field(100, gt=0, description="accepted orders in the window")


class RepeatedChildrenRule(_Rule):
    pass


class LeaseAgeRule(_Rule):
    max_age_ms: StrictInt = Field(1_500, gt=0, description="since the last lease renewal")


class JournalLagRule(_Rule):
    max_records: StrictInt = Field(10_000, gt=0, description="appended, not yet durable")


class AlertsConfig(_Model):
    interval_ms: StrictInt = Field(1_000, ge=50, description="how often serve evaluates")
    window_ms: StrictInt = Field(60_000, gt=0, description="the counters' comparison window")
    reject_rate: RejectRateRule = RejectRateRule()
    order_to_fill: OrderToFillRule = OrderToFillRule()
    repeated_children: RepeatedChildrenRule = RepeatedChildrenRule()
    lease_age: LeaseAgeRule = LeaseAgeRule()
    journal_lag: JournalLagRule = JournalLagRule()


ALERT_NAMES = ("reject_rate", "order_to_fill", "repeated_children", "lease_age", "journal_lag")
"""Every rule, by its config key; `event=alert.fired` log records carry it as `alert`."""


@dataclass(frozen=True, slots=True)
class Sample:
    """The instance's counters and gauges at `ts` (ns)."""

    ts: int
    decisions: int
    refused: int
    accepted: int
    fills: int
    repeated_child_trips: int
    lease_age_ns: int
    journal_lag: int
    journal_available: bool


@dataclass(frozen=True, slots=True)
class Firing:
    alert: str
    reason: str


def evaluate(config: AlertsConfig, old: Sample, new: Sample) -> list[Firing]:
    """The rules that hold between `old` (about `window_ms` earlier) and `new`."""
    c, out = config, []
    decided, refused = new.decisions - old.decisions, new.refused - old.refused
    if decided >= c.reject_rate.min_decisions and refused >= c.reject_rate.share * decided:
        out.append(Firing("reject_rate", f"{refused} of {decided} decisions refused"))
    accepted, fills = new.accepted - old.accepted, new.fills - old.fills
    r = c.order_to_fill
    if accepted >= r.min_orders and accepted > r.max_ratio * max(fills, 1):
        out.append(Firing("order_to_fill", f"{accepted} orders accepted, {fills} fills"))
    trips = new.repeated_child_trips - old.repeated_child_trips
    if trips > 0:
        out.append(Firing("repeated_children", f"{trips} repeated-child trip(s)"))
    if new.lease_age_ns > c.lease_age.max_age_ms * 1_000_000:
        out.append(Firing("lease_age", f"lease renewed {new.lease_age_ns // 1_000_000} ms ago"))
    if not new.journal_available or new.journal_lag > c.journal_lag.max_records:
        state = "unavailable" if not new.journal_available else "available"
        out.append(Firing("journal_lag", f"journal {state}, {new.journal_lag} records behind"))
    return out
