"""The report's message-throttle and order-to-trade line: honest counts against the
baseline's own flow (replay/message_budget.py)."""

from __future__ import annotations

import numpy as np

from interlock.api.config import load_config
from interlock.replay import KnightReport
from interlock.replay.message_budget import message_budget
from interlock.replay.render_report import message_budget_line
from interlock.risk.limits import LimitsConfig


def test_the_packaged_throttle_and_ratio_would_not_have_stopped_knight(
    knight: KnightReport,
) -> None:
    b = knight.baseline
    assert b.server_children.shape == (8, round(knight.minutes * 60))
    assert int(b.server_children.sum()) == b.child_orders  # every Power Peg child, by server
    mb = message_budget(b, load_config().limits)
    assert mb.per_server_per_s == 500 and mb.peak_per_server_per_s < 500
    assert mb.throttle_refusals == 0
    assert mb.orders < 2 * mb.trades and not mb.ratio_refuses  # Knight's orders traded
    line = message_budget_line(knight)
    assert "would refuse 0 of" in line and "never refused: Knight's orders traded" in line


def test_a_throttle_under_the_runaways_rate_counts_every_child_past_it(
    knight: KnightReport,
) -> None:
    b = knight.baseline
    tight = LimitsConfig.model_validate(
        {"messages": {"per_session": {"count": 200, "window_ms": 1_000}}}
    )
    mb = message_budget(b, tight)
    assert mb.per_server_per_s == 200
    assert mb.throttle_refusals == int(np.clip(b.server_children - 200, 0, None).sum()) > 0
