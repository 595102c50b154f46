"""`interlock serve --log-format json`: the console says, as they happen, with stable event
names, a FIX session's logon and disconnect, its cancel-on-disconnect, every decision
with its order id, a halt and its lifting. A real serve process, a real FIX desk over TCP,
real HTTP on the admin port."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from api.serve_kit import fix_section, kill_if_running, serve_config, stop_serve
from interlock.sim.harness import DESK_KEY

ADMIN = {"Authorization": "Bearer demo-admin-token"}


def _events(lines: list[str]) -> list[dict[str, Any]]:
    out = []
    for line in lines:
        if line.startswith("{"):
            out.append(json.loads(line))
    return out


def _wait_event(lines: list[str], pred: Any, what: str, timeout_s: float = 20.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for e in _events(list(lines)):
            if pred(e):
                return e
        time.sleep(0.05)
    raise AssertionError(f"no {what} in:\n" + "\n".join(lines[-40:]))


def test_serve_logs_logon_decisions_disconnect_cancel_and_halts_as_json(tmp_path: Path) -> None:
    from interlock.sim.fix import FixClient, free_port

    port = free_port()
    config = serve_config(tmp_path, fix_section(port))
    proc = subprocess.Popen(
        [sys.executable, "-m", "interlock.cli", "serve", "--config", str(config),
         "--log-format", "json"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip
    lines: list[str] = []
    reader = threading.Thread(
        target=lambda: [lines.append(x.rstrip("\n")) for x in proc.stdout or ()], daemon=True
    )
    reader.start()
    client = FixClient(tmp_path / "desk", port, "DESK1", "desk-7-algo", DESK_KEY, file_log=False)
    try:
        deadline = time.monotonic() + 30
        admin = None
        while admin is None or not any("fix acceptor listening" in x for x in lines):
            assert time.monotonic() < deadline and proc.poll() is None, "\n".join(lines)
            found = [m for x in lines if (m := re.search(r"admin listening on (\S+)", x))]
            admin = found[0].group(1) if found else None
            time.sleep(0.05)
        assert client.start(timeout=10)
        _wait_event(lines, lambda e: e["event"] == "fix.logon" and
                    e.get("counterparty") == "DESK1", "fix.logon")  # fmt: skip
        client.new_order("rest-1", qty=100, price="99.00")  # rests below the ask
        report = client.expect(lambda f: f.get(35) == "8" and f.get(11) == "rest-1")
        assert report[150] == "0", report
        decided = _wait_event(lines, lambda e: e["event"] == "order.decided", "order.decided")
        assert decided["code"] == "accepted" and isinstance(decided["order_id"], int)
        order_id = decided["order_id"]
        client.stop()
        _wait_event(lines, lambda e: e["event"] == "fix.disconnect", "fix.disconnect")
        cancelled = _wait_event(lines, lambda e: e["event"] == "fix.cancel_on_disconnect",
                                "fix.cancel_on_disconnect")  # fmt: skip
        assert cancelled["order_id"] == order_id

        halt = {"scope": "symbol", "target": "MSFT", "reason": "test: logs"}
        assert httpx.post(f"{admin}/halt", json=halt, headers=ADMIN, timeout=10).is_success
        applied = _wait_event(lines, lambda e: e["event"] == "halt.applied", "halt.applied")
        assert (applied["scope"], applied["target"], applied["who"]) == (
            "symbol", "MSFT", "ops-kill-switch")  # fmt: skip
        lift = {"scope": "symbol", "target": "MSFT"}
        assert httpx.post(f"{admin}/resume", json=lift, headers=ADMIN, timeout=10).is_success
        _wait_event(lines, lambda e: e["event"] == "halt.lifted", "halt.lifted")
        stop_serve(proc)
    finally:
        kill_if_running(proc)
    reader.join(5)
    for e in _events(lines):  # every JSON line is a whole record with its event name
        assert {"ts", "level", "event", "logger", "msg"} <= set(e), e


def test_serve_refuses_an_unknown_log_format_with_a_clear_error(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "interlock.cli", "serve", "--config",
         str(serve_config(tmp_path)), "--log-format", "xml"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 1
    assert "--log-format must be text or json" in done.stdout + done.stderr
