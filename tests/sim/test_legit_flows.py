"""The other side of the runaway property: normal desk flow never trips, on the shipped
config, through the same builder."""

from __future__ import annotations

import pytest
from rich.console import Console

from interlock.demo import run_demo
from interlock.sim.flows import legit_flows
from interlock.sim.runaway import Flow, drive, harness


@pytest.mark.parametrize("flow", legit_flows(), ids=lambda f: f.name)
def test_normal_desk_flow_runs_with_no_halt_and_no_rate_refusal(flow: Flow) -> None:
    h = harness()
    r = drive(flow, h, until_stopped=False)
    assert r.orders > 150 and r.halts == [] and h.plane.halts() == []
    assert "RATE_LIMIT" not in r.refused, r.first_refusals
    assert r.accepted == r.orders, r.first_refusals
    assert h.gateway.trip_reports == []


def test_the_demo_session_trips_no_monitor() -> None:
    result = run_demo(Console(file=open("/dev/null", "w"), width=100))  # noqa: SIM115
    assert result.surprises == ()
    assert not any("observe:" in row.decision + row.sentence for row in result.rows)
