"""The admin port answers while the FIX order port of a real `interlock serve` is flooded:
four FIX sessions sending NewOrderSingles back to back and two threads opening and
dropping TCP connections to the same port. Once the flood is seen running, GET /fleet and
a global halt go through the admin port within a generous deadline, and every order sent
after the halt returned is refused with HALTED. No latency is asserted (the figures are
bench/admin_under_flood.py's); every wait is for a condition, with a deadline."""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from api.conftest import ADMIN_TOKEN, bearer
from api.serve_kit import announced, kill_if_running, set_keys, start_serve, stop_serve
from interlock.sim.tls import make_tls

flood = pytest.importorskip("interlock.sim.flood")  # needs the FIX extra (QuickFIX)
engine = pytest.importorskip("interlock.fixengine.engine")

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


@pytest.mark.parametrize("tls", [False, True], ids=["plain", "tls"])
def test_admin_status_and_halt_answer_under_a_fix_flood_and_the_halt_stops_fix_orders(
    tmp_path: Path, tls: bool
) -> None:
    """With `tls` every port is TLS (FIX through the in-process front): the churn then
    hits the front's handshakes, which must hold up neither FIX nor the admin port."""
    keys, fix_tls, verify = {}, None, True
    if tls:
        files = make_tls(tmp_path / "tls")
        keys = {"tls_cert": str(files.server_cert), "tls_key": str(files.server_key)}
        fix_tls = engine.FixTls(ca=str(files.ca_cert))
        verify = ssl.create_default_context(cafile=str(files.ca_cert))
    config = flood.flood_config(tmp_path, SESSIONS, fix=keys)
    if tls:
        set_keys(config, "admin", **keys)
        set_keys(config, "rest", **keys)
    proc, lines, _ = start_serve(config)
    fix_flood = churn = None
    try:
        urls = announced(lines, 3)
        assert urls["admin"].startswith("https://" if tls else "http://"), urls
        host, port = urls["fix acceptor"].rsplit(":", 1)
        fix_flood = flood.FixFlood(tmp_path, int(port), SESSIONS, host=host, max_s=60,
                                   tls=fix_tls).start()  # fmt: skip
        churn = flood.ConnectChurn(host, int(port), threads=2, max_s=60).start()
        until(lambda: fix_flood.answered() >= ANSWERED_BEFORE_HALT, "the FIX flood answered")
        until(lambda: churn.attempts >= 50, "connections churned")
        with httpx.Client(base_url=urls["admin"], headers=bearer(ADMIN_TOKEN),
                          timeout=ADMIN_DEADLINE_S, verify=verify) as admin:  # fmt: skip
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
