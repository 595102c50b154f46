"""The admin port answers while the FIX order port of a real `interlock serve` is flooded:
four FIX sessions sending NewOrderSingles back to back and two threads opening and
dropping TCP connections to the same port. Once the flood is seen running, GET /fleet and
a global halt go through the admin port within a generous deadline, and every order sent
after the halt returned is refused with HALTED. No latency is asserted (the figures are
bench/admin_under_flood.py's); every wait is for a condition, with a deadline."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from api.conftest import ADMIN_TOKEN, bearer
from api.serve_kit import announced, kill_if_running, start_serve, stop_serve

flood = pytest.importorskip("interlock.sim.flood")  # needs the FIX extra (QuickFIX)

SESSIONS = 4
ANSWERED_BEFORE_HALT = 400  # the flood is running: this many orders answered
AFTER_HALT = 20  # orders sent (and answered) after the halt returned, at least
ADMIN_DEADLINE_S = 10.0  # generous: an answer, not a latency figure


def until(condition: Callable[[], bool], what: str, deadline_s: float = 30.0) -> None:
    end = time.monotonic() + deadline_s
    while not condition():
        if time.monotonic() > end:
            pytest.fail(f"not within {deadline_s} s: {what}")
        time.sleep(0.005)


def test_admin_status_and_halt_answer_under_a_fix_flood_and_the_halt_stops_fix_orders(
    tmp_path: Path,
) -> None:
    proc, lines, _ = start_serve(flood.flood_config(tmp_path, SESSIONS))
    fix_flood = churn = None
    try:
        urls = announced(lines, 3)
        host, port = re.fullmatch(r"([\d.]+):(\d+)", urls["fix acceptor"]).groups()  # type: ignore[union-attr]
        fix_flood = flood.FixFlood(tmp_path, int(port), SESSIONS, host=host, max_s=60).start()
        churn = flood.ConnectChurn(host, int(port), threads=2, max_s=60).start()
        until(lambda: fix_flood.answered() >= ANSWERED_BEFORE_HALT, "the FIX flood answered")
        until(lambda: churn.attempts >= 50, "connections churned")
        with httpx.Client(base_url=urls["admin"], headers=bearer(ADMIN_TOKEN),
                          timeout=ADMIN_DEADLINE_S) as admin:  # fmt: skip
            status = admin.get("/fleet")
            assert status.status_code == 200, status.text
            halted = admin.post("/halt", json={"scope": "global", "reason": "fix flood test"})
            t1 = time.perf_counter()
            assert halted.status_code == 200 and halted.json()["complete"], halted.text
            until(lambda: len(fix_flood.answers_sent_after(t1)) >= AFTER_HALT,
                  "orders sent after the halt were answered")  # fmt: skip
            still = admin.get("/halts")  # the admin port still answers mid-flood
            assert still.status_code == 200 and len(still.json()) == 1, still.text
        after = fix_flood.answers_sent_after(t1)
        assert after and all(s == "8" and t.startswith("HALTED") for s, t in after), after[:5]
        fix_flood.stop()
        churn.stop()
        stop_serve(proc)
    finally:
        for running in (fix_flood, churn):
            if running is not None:
                running.stop()
        kill_if_running(proc)
