"""The in-process alert rules: each fires at its threshold, once, and a rule bound to a halt
scope halts that scope through the kill switch."""

from __future__ import annotations

from typing import Any

import pytest

from interlock.api.config import load_config, parse_config
from interlock.domain.enums import HaltScope
from interlock.domain.reject import RejectCode
from interlock.errors import ConfigError
from interlock.gateway.alerting import AlertLoop
from interlock.observe.alerts import AlertsConfig, Sample, evaluate
from interlock.sim.harness import build


def _sample(**kw: Any) -> Sample:
    base: dict[str, Any] = dict(ts=0, decisions=0, refused=0, accepted=0, fills=0,
                                repeated_child_trips=0, lease_age_ns=0, journal_lag=0,
                                journal_available=True)  # fmt: skip
    return Sample(**{**base, **kw})


def _fired(old: Sample, new: Sample, config: AlertsConfig | None = None) -> set[str]:
    return {f.alert for f in evaluate(config or AlertsConfig(), old, new)}


def test_each_rule_fires_at_its_threshold_and_not_below() -> None:
    zero = _sample()
    assert _fired(zero, zero) == set()
    assert _fired(zero, _sample(decisions=60, refused=30)) == {"reject_rate"}
    assert _fired(zero, _sample(decisions=60, refused=29)) == set()
    assert _fired(zero, _sample(decisions=59, refused=59)) == set()  # too few to judge
    assert _fired(zero, _sample(decisions=200, accepted=200, fills=9)) == {"order_to_fill"}
    assert _fired(zero, _sample(decisions=200, accepted=200, fills=10)) == set()
    assert _fired(_sample(repeated_child_trips=1), _sample(repeated_child_trips=2)) == {
        "repeated_children"}  # fmt: skip
    assert _fired(_sample(repeated_child_trips=1), _sample(repeated_child_trips=1)) == set()
    assert _fired(zero, _sample(lease_age_ns=1_500_000_001)) == {"lease_age"}
    assert _fired(zero, _sample(lease_age_ns=1_500_000_000)) == set()
    assert _fired(zero, _sample(journal_lag=10_001)) == {"journal_lag"}
    assert _fired(zero, _sample(journal_available=False)) == {"journal_lag"}
    assert _fired(zero, _sample(journal_lag=10_000)) == set()


def _config(alerts: dict[str, Any]) -> Any:
    base = load_config().model_dump(mode="json")
    base["alerts"] = alerts
    return parse_config(base, "alerts test config")


def test_a_halt_scope_without_its_target_is_refused_naming_the_key() -> None:
    with pytest.raises(ConfigError, match=r"alerts\.reject_rate"):
        _config({"reject_rate": {"halt_scope": "account"}})
    with pytest.raises(ConfigError, match=r"alerts\.lease_age"):
        _config({"lease_age": {"halt_scope": "everything"}})


def test_reject_spike_bound_to_an_account_halt_halts_that_account_once() -> None:
    cfg = _config({"reject_rate": {"min_decisions": 5, "halt_scope": "account",
                                   "halt_target": "desk-7"}})  # fmt: skip
    h = build(cfg)
    loop = AlertLoop(h.gateway)
    try:
        assert loop.tick() == []
        for _ in range(6):
            d = h.submit(quantity=10_000_000)
            assert d.rejection is not None and d.rejection.code is not RejectCode.HALTED
        assert [f.alert for f in loop.tick()] == ["reject_rate"]
        halts = [(x.scope, x.target, x.who) for x in h.gateway.halts_in_force()]
        assert halts == [(HaltScope.ACCOUNT, "desk-7", "alert:reject_rate")]
        refused = h.submit()
        assert refused.rejection is not None and refused.rejection.code is RejectCode.HALTED
        assert loop.tick() == []  # still holding: fired once, not on every tick
    finally:
        h.gateway.close()


def test_an_alert_without_a_halt_scope_halts_nothing() -> None:
    h = build(_config({"reject_rate": {"min_decisions": 5}}))
    loop = AlertLoop(h.gateway)
    try:
        loop.tick()
        for _ in range(6):
            h.submit(quantity=10_000_000)
        assert [f.alert for f in loop.tick()] == ["reject_rate"]
        assert h.gateway.halts_in_force() == []
        assert h.submit().rejection is None
    finally:
        h.gateway.close()


def test_refusals_before_the_first_tick_count_in_the_window() -> None:
    """The baseline is taken at `start`, not at the first tick: a burst of refusals that
    lands inside the first interval (serve's ports open before the loop first ticks) fires."""
    cfg = _config({"interval_ms": 60_000, "reject_rate": {"min_decisions": 5}})
    h = build(cfg)
    loop = AlertLoop(h.gateway).start()
    try:
        for _ in range(5):
            d = h.submit(quantity=10_000_000)
            assert d.rejection is not None
        assert [f.alert for f in loop.tick()] == ["reject_rate"]
    finally:
        loop.stop()
        h.gateway.close()


def test_a_halt_that_fails_is_tried_again_on_the_next_tick() -> None:
    cfg = _config({"reject_rate": {"min_decisions": 5, "halt_scope": "account",
                                   "halt_target": "desk-7"}})  # fmt: skip
    h = build(cfg)
    loop = AlertLoop(h.gateway)
    real_halt, calls = h.gateway.halt, []

    def failing_once(*args: Any) -> Any:
        calls.append(args)
        if len(calls) == 1:
            raise RuntimeError("plane write failed")
        return real_halt(*args)

    h.gateway.halt = failing_once  # type: ignore[method-assign]
    try:
        loop.tick()
        for _ in range(5):
            h.submit(quantity=10_000_000)
        loop.tick()  # fires; its halt raises
        assert h.gateway.halts_in_force() == []
        loop.tick()  # still holding: acts again
        halts = [(x.scope, x.target, x.who) for x in h.gateway.halts_in_force()]
        assert halts == [(HaltScope.ACCOUNT, "desk-7", "alert:reject_rate")]
        assert len(calls) == 2
    finally:
        h.gateway.close()
