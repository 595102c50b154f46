"""The alert rules are on in `interlock serve`: a reject-rate rule bound to an account halt
halts that account by itself, through the kill switch, seen on the admin port."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from api.serve_kit import kill_if_running, serve_config, start_serve, stop_serve
from interlock.sim.harness import DESK_KEY
from interlock.sim.serve_fleet import wait_until

ALERTS = """
[alerts]
interval_ms = 1000  # orders land before the first tick: they must count

[alerts.reject_rate]
min_decisions = 5
halt_scope = "account"
halt_target = "desk-7"
"""


def test_serve_halts_the_account_bound_to_a_firing_reject_rate_alert(tmp_path: Path) -> None:
    proc, lines, reader = start_serve(serve_config(tmp_path, ALERTS))
    try:
        urls: dict[str, str] = {}
        while len(urls) < 2:
            found = re.search(r"(rest|admin) listening on (http://127\.0\.0\.1:\d+)",
                              lines.get(timeout=20))  # fmt: skip
            if found:
                urls[found.group(1)] = found.group(2)
        auth = {"Authorization": f"Bearer {DESK_KEY}"}
        admin = {"Authorization": "Bearer demo-admin-token"}
        for n in range(5):  # far over the order-size limit: refused, not HALTED
            order = {"client_order_id": f"big-{n}", "account": "desk-7", "strategy": "vwap",
                     "symbol": "AAPL", "side": "buy", "quantity": 10_000_000,
                     "limit_price": "100.00"}  # fmt: skip
            r = httpx.post(f"{urls['rest']}/orders", json=order, timeout=5, headers=auth)
            assert r.status_code != 201 and r.json()["code"] != "HALTED", r.text

        def halted() -> bool:
            halts = httpx.get(f"{urls['admin']}/halts", timeout=5, headers=admin).json()
            return [(h["scope"], h["target"], h["who"]) for h in halts] == [
                ("account", "desk-7", "alert:reject_rate")]  # fmt: skip

        wait_until(halted, 15, "the alert's account halt")
        ok = {"client_order_id": "after", "account": "desk-7", "strategy": "vwap",
              "symbol": "AAPL", "side": "buy", "quantity": 10, "limit_price": "100.00"}  # fmt: skip
        r = httpx.post(f"{urls['rest']}/orders", json=ok, timeout=5, headers=auth)
        assert r.json()["code"] == "HALTED", r.text
        stop_serve(proc)
    finally:
        kill_if_running(proc)
    reader.join(5)
    assert "alert.fired: alert reject_rate fired" in "".join(lines.queue)
