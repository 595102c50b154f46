"""The order path is data: `STAGES`, in DESIGN.md's order, and each stage answers only once
every stage before it let the order on.

DESIGN.md numbers the steps 1 decode, 2 authenticate, 3 instance gate, 4 kill switch,
5 idempotency key, 6 pre-trade checks. One documented exception: a known idempotency key
is answered right after authentication (a replay reports a decision already made; it must
not come back HALTED for an order that is working), so step 5 runs before 3 and 4.
"""

from __future__ import annotations

import re
from pathlib import Path

from interlock.domain.enums import HaltScope
from interlock.domain.reject import RejectCode
from interlock.gateway.gateway import STAGES, Gateway
from interlock.sim.harness import DESK_KEY, START_NS, ManualClock, build, config_with

DESIGN_STEP = {
    "journal": 0,  # before all: nothing can be decided durably without it (DESIGN.md 8)
    "decode": 1,
    "authenticate": 2,
    "instance_gate": 3,
    "kill_switch": 4,
    "readiness": 4,  # 4b: the pre-open readiness block, beside the kill switch
    "replay": 5,
    "pre_trade_checks": 6,
    "fleet_budget": 6,  # DESIGN.md's step 6: "fleet-wide position" beside the checks
}
ARCHITECTURE = Path(__file__).resolve().parents[2] / "docs" / "architecture.md"


def test_stages_run_in_design_order_with_the_replay_moved_up_front() -> None:
    steps = [DESIGN_STEP[name] for name in STAGES]
    assert steps == [0, 1, 2, 5, 3, 4, 4, 6, 6]
    without_replay = [s for name, s in zip(STAGES, steps, strict=True) if name != "replay"]
    assert without_replay == sorted(without_replay)


def test_every_stage_runs_and_the_risk_engine_is_one_of_them() -> None:
    h = build()
    stages = dict(h.gateway.stages)
    assert list(stages) == [s for s in STAGES if s != "fleet_budget"]
    assert stages["pre_trade_checks"] == h.gateway.engine.check
    for name in set(STAGES) - {"pre_trade_checks"}:
        assert callable(getattr(Gateway, f"_stage_{name}"))


def test_a_gateway_with_fleet_budgets_runs_the_budget_stage_last() -> None:
    h = build(config_with())
    assert "fleet_budget" not in dict(h.gateway.stages)  # no budgets configured: not run
    cfg = h.gateway.config.model_dump(mode="json")
    cfg["fleet"]["budgets"] = [{"account": "desk-7", "symbol": "AAPL", "slice_shares": 500}]
    budgeted = build(type(h.gateway.config).model_validate(cfg))
    assert [name for name, _ in budgeted.gateway.stages][-1] == "fleet_budget"


def test_architecture_doc_lists_the_stages_in_the_order_they_run() -> None:
    text = ARCHITECTURE.read_text()
    block = text[text.index("STAGES:") : text.index("the first Rejection")]
    assert tuple(re.findall(r"`(\w+)`", block)) == STAGES


def test_each_stage_answers_only_when_every_stage_before_it_let_the_order_on() -> None:
    """One request, refused by every stage it can be at once; take the refusals away one
    by one, in stage order, and the answer moves to the next stage each time."""
    clock = ManualClock(START_NS)
    h = build(clock=clock)
    first = h.gateway.submit(h.order(idempotency_key="k-1"), DESK_KEY)
    h.journal.flush()
    assert first.accepted
    h.gateway.halt(HaltScope.GLOBAL, "", "stage test", "ops")
    clock.advance_ms(2_500)  # past the lease: the instance gate refuses
    h.refresh_references()
    too_big = h.order(quantity=20_000)  # over max_order_qty (10,000)

    assert h.gateway.submit(too_big, "no such key").code is RejectCode.UNAUTHENTICATED  # 2
    replay = h.gateway.submit(h.order(idempotency_key="k-1", client_order_id="c1"), DESK_KEY)
    assert replay.replayed and replay.order_id == first.order_id  # 5, before the gate and halt
    assert h.gateway.submit(too_big, DESK_KEY).code is RejectCode.CONTROL_PLANE_LOST  # 3
    h2 = build(clock=clock)
    h2.gateway.halt(HaltScope.GLOBAL, "", "stage test", "ops")
    assert h2.gateway.submit(h2.order(quantity=20_000), DESK_KEY).code is RejectCode.HALTED  # 4
    h2.gateway.resume(HaltScope.GLOBAL, "", "ops")
    refused = h2.gateway.submit(h2.order(quantity=20_000), DESK_KEY)
    assert refused.code is RejectCode.MAX_ORDER_QTY  # 6
    assert h2.gateway.submit(h2.order(), DESK_KEY).accepted
