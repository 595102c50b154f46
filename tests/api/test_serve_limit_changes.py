"""Four-eyes limit changes in one running `interlock serve`, through the CLI: an order
refused, a raise proposed and approved by another risk principal, the same order accepted,
no restart; then a restart of serve on its SQLite journal keeps the approved limit."""

from __future__ import annotations

import hashlib
import os
import queue
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx

from api.serve_kit import kill_if_running, serve_config, start_serve, stop_serve
from interlock.sim.harness import DESK_KEY

TOKENS = {"risk-a": "risk-a-token", "risk-b": "risk-b-token"}


def _risk_tokens() -> str:
    return "".join(
        f'\n[[admin.tokens]]\nprincipal = "{who}"\n'
        f'token_sha256 = "{hashlib.sha256(token.encode()).hexdigest()}"\nrole = "risk"\n'
        for who, token in TOKENS.items()
    )


def _urls(lines: queue.Queue[str]) -> tuple[str, str]:
    found: dict[str, str] = {}
    deadline = time.monotonic() + 30
    while len(found) < 2 and time.monotonic() < deadline:
        m = re.search(r"(rest|admin) listening on (http://\S+)", lines.get(timeout=20))
        if m:
            found[m.group(1)] = m.group(2)
    return found["rest"], found["admin"]


def _cli(admin: str, who: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "INTERLOCK_ADMIN_URL": admin, "INTERLOCK_ADMIN_TOKEN": TOKENS[who],
           "COLUMNS": "250"}  # fmt: skip
    command = [sys.executable, "-m", "interlock.cli", "limits", *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=60, check=False)


def _order(rest: str, n: int, quantity: int) -> httpx.Response:
    body = {"client_order_id": f"lc-{n}", "account": "desk-7", "strategy": "vwap",
            "symbol": "AAPL", "side": "buy", "quantity": quantity,
            "limit_price": "100.00"}  # fmt: skip
    return httpx.post(f"{rest}/orders", json=body, timeout=5,
                      headers={"Authorization": f"Bearer {DESK_KEY}"})  # fmt: skip


def test_an_approved_raise_applies_in_the_running_serve_and_survives_its_restart(
    tmp_path: Path,
) -> None:
    config = serve_config(tmp_path, _risk_tokens())
    proc, lines, _ = start_serve(config)
    try:
        rest, admin = _urls(lines)
        assert _order(rest, 1, 2000).status_code == 201
        lowered = _cli(admin, "risk-a", "propose", "accounts.desk-7.max_order_qty=3000",
                       "--reason", "tighten")  # fmt: skip
        assert lowered.returncode == 0 and "LC-1 applied" in lowered.stdout, lowered.stdout
        refused = _order(rest, 2, 3500)
        assert (refused.status_code, refused.json()["code"]) == (403, "MAX_ORDER_QTY")

        raised = _cli(admin, "risk-a", "propose", "accounts.desk-7.max_order_qty=4500")
        assert raised.returncode == 0 and "LC-2 pending" in raised.stdout, raised.stdout
        own = _cli(admin, "risk-a", "approve", "LC-2")
        assert own.returncode == 1 and own.stdout.startswith("FOUR_EYES_REQUIRED: "), own.stdout
        assert _order(rest, 3, 3501).json()["code"] == "MAX_ORDER_QTY"
        approved = _cli(admin, "risk-b", "approve", "LC-2")
        assert approved.returncode == 0, approved.stdout + approved.stderr
        assert "LC-2 applied (approved by risk-b)" in approved.stdout
        assert _order(rest, 4, 3502).status_code == 201  # the same serve, no restart

        pending = _cli(admin, "risk-a", "propose", "accounts.desk-7.max_order_qty=4900")
        assert "LC-3 pending" in pending.stdout
        listed = _cli(admin, "risk-b", "list")
        assert listed.returncode == 0 and "LC-3" in listed.stdout and "pending" in listed.stdout
        stop_serve(proc)
    finally:
        kill_if_running(proc)

    proc, lines, _ = start_serve(config)  # the same config file and journal
    try:
        rest, admin = _urls(lines)
        assert _order(rest, 5, 4501).json()["code"] == "MAX_ORDER_QTY"  # 4500, not 10000
        assert _order(rest, 6, 4499).status_code == 201
        approved = _cli(admin, "risk-b", "approve", "LC-3")  # still pending after the restart
        assert approved.returncode == 0, approved.stdout + approved.stderr
        assert _order(rest, 7, 4899).status_code == 201
        stop_serve(proc)
    finally:
        kill_if_running(proc)
