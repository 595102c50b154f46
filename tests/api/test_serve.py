"""`interlock serve` as a real process: starts, answers, stops on SIGTERM with exit 0 and a
journal that holds what it decided."""

from __future__ import annotations

import queue
import re
import sqlite3
import subprocess
import threading
from pathlib import Path

import httpx

from api.serve_kit import fix_section, kill_if_running, serve_config, start_serve, stop_serve
from interlock.sim.harness import DESK_KEY


def _config(tmp_path: Path) -> Path:
    return serve_config(tmp_path)


def _fix_config(tmp_path: Path, port: int) -> Path:
    """The test config plus a FIX acceptor with one desk session (DESK1, desk-7/vwap)."""
    return serve_config(tmp_path, fix_section(port))


def _serve(config: Path) -> tuple[subprocess.Popen[str], queue.Queue[str], threading.Thread]:
    return start_serve(config)


def test_serve_answers_health_and_orders_then_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    proc, lines, reader = _serve(_config(tmp_path))
    try:
        url = None
        seen: list[str] = []
        while url is None:
            line = lines.get(timeout=20)
            seen.append(line)
            found = re.search(r"rest listening on (http://127\.0\.0\.1:\d+)", line)
            url = found.group(1) if found else None
        health = httpx.get(f"{url}/health", timeout=5).json()
        assert health["status"] == "ok" and health["gate"] == "routing"
        order = {
            "client_order_id": "serve-1",
            "account": "desk-7",
            "strategy": "vwap",
            "symbol": "AAPL",
            "side": "buy",
            "quantity": 100,
            "limit_price": "100.00",
        }
        r = httpx.post(
            f"{url}/orders", json=order, timeout=5, headers={"Authorization": f"Bearer {DESK_KEY}"}
        )
        assert r.status_code == 201, r.text
        stop_serve(proc)
    finally:
        kill_if_running(proc)
    reader.join(5)
    output = "".join(seen) + "".join(lines.queue)
    assert "stopped; journal durable up to seq" in output, output
    assert "fix acceptor not configured" in output
    with sqlite3.connect(tmp_path / "serve-journal.db") as db:
        kinds = [k for (k,) in db.execute("SELECT kind FROM events ORDER BY seq")]
    assert "decided" in kinds and "limits" in kinds


def test_serve_with_a_fix_section_accepts_a_fix_order_then_stops_cleanly(tmp_path: Path) -> None:
    """The FIX acceptor configured in the file is started by `serve`: a desk logs on over
    real TCP, its order is acknowledged after the journal is durable, SIGTERM stops it."""
    from interlock.sim.fix import FixClient, free_port

    port = free_port()
    proc, lines, _ = _serve(_fix_config(tmp_path, port))
    client = FixClient(tmp_path / "desk", port, "DESK1", "desk-7-algo", DESK_KEY, file_log=False)
    try:
        while "fix acceptor listening" not in (line := lines.get(timeout=20)):
            assert "not configured" not in line, line
        assert client.start(timeout=10)
        client.new_order("fix-serve-1", qty=100, price="100.00")
        report = client.expect(lambda f: f.get(35) == "8" and f.get(11) == "fix-serve-1")
        assert report[150] in {"0", "1", "2"}, report  # new, or already (partly) filled
        client.stop()
        stop_serve(proc)
    finally:
        kill_if_running(proc)
    rows = (
        sqlite3.connect(tmp_path / "serve-journal.db")
        .execute("SELECT COUNT(*) FROM events WHERE kind = 'decided'")
        .fetchone()
    )
    assert rows[0] >= 1


def test_halt_on_the_admin_port_while_a_fix_session_floods_orders(tmp_path: Path) -> None:
    """The kill switch works while the FIX path is saturated: a desk streams orders as fast
    as it can (bounded: 3,000 orders, 5 s), the admin port halts everything within the
    bound, and an order the desk sends after the halt returned is rejected HALTED."""
    import time

    from interlock.sim.fix import FixClient, free_port

    port = free_port()
    proc, lines, _ = _serve(_fix_config(tmp_path, port))
    # QuickFIX keeps one session registry per process: a second DESK1 client needs a qualifier
    client = FixClient(
        tmp_path / "desk", port, "DESK1", "desk-7-algo", DESK_KEY, file_log=False,
        qualifier="flood",
    )  # fmt: skip
    reports: list[dict[int, str]] = []
    client.on_message = reports.append
    try:
        admin = None
        while "fix acceptor listening" not in (line := lines.get(timeout=20)):
            found = re.search(r"admin listening on (http://127\.0\.0\.1:\d+)", line)
            admin = found.group(1) if found else admin
        assert admin is not None and client.start(timeout=10)
        stop_flood = threading.Event()

        def flood() -> None:
            deadline = time.monotonic() + 5
            for i in range(3_000):
                if stop_flood.is_set() or time.monotonic() > deadline:
                    return
                client.new_order(f"flood-{i}", qty=100, price=f"{99 + (i % 100) / 100:.2f}")

        flooder = threading.Thread(target=flood)
        flooder.start()
        time.sleep(0.5)  # the session is saturated
        started = time.perf_counter()
        r = httpx.post(
            f"{admin}/halt",
            json={"scope": "global", "reason": "fix flood test"},
            headers={"Authorization": "Bearer demo-admin-token"},
            timeout=10,
        )
        latency_ms = (time.perf_counter() - started) * 1_000
        assert r.status_code == 200, r.text
        assert latency_ms < 1_000, f"halt took {latency_ms:.0f} ms under a FIX flood"
        client.new_order("after-halt", qty=100, price="100.00")
        stop_flood.set()
        flooder.join(10)
        deadline = time.monotonic() + 10
        after = None
        while after is None and time.monotonic() < deadline:
            after = next((f for f in list(reports) if f.get(11) == "after-halt"), None)
            time.sleep(0.02)
        assert after is not None and after[150] == "8", after
        assert after[58].startswith("HALTED"), after
        print(f"halt via admin port under a FIX flood: {latency_ms:.1f} ms")
        client.stop()
        stop_serve(proc)
    finally:
        kill_if_running(proc)


def test_serve_runs_the_runaway_monitors_and_halts_a_runaway_account_by_itself(
    tmp_path: Path,
) -> None:
    """The monitors are on in the product as served, not only in the replay: with the
    account-flow threshold lowered to 5 orders a minute, the sixth order halts desk-7
    fleet-wide, the admin port lists the halt, and the account's next order is HALTED."""
    config = _config(tmp_path)
    text = config.read_text()
    old = "account_flow = { max_orders = 100, instance_max_orders = 150, window_ms = 1000 }"
    assert old in text
    config.write_text(
        text.replace(
            old, "account_flow = { max_orders = 5, instance_max_orders = 150, window_ms = 60000 }"
        )
    )
    proc, lines, reader = _serve(config)
    try:
        urls: dict[str, str] = {}
        while len(urls) < 2:
            line = lines.get(timeout=20)
            found = re.search(r"(rest|admin) listening on (http://127\.0\.0\.1:\d+)", line)
            if found:
                urls[found.group(1)] = found.group(2)
        auth = {"Authorization": f"Bearer {DESK_KEY}"}
        codes = []
        for n, symbol in enumerate(["AAPL", "MSFT", "AMZN", "NVDA", "GOOG", "META", "TSLA"]):
            order = {
                **{"client_order_id": f"loop-{n}", "account": "desk-7", "strategy": "vwap"},
                **{"symbol": symbol, "side": "buy", "quantity": 10, "limit_price": "100.00"},
            }
            r = httpx.post(f"{urls['rest']}/orders", json=order, timeout=5, headers=auth)
            codes.append(r.status_code if r.status_code == 201 else r.json()["code"])
        assert codes[:6] == [201] * 6 and codes[6] == "HALTED", codes
        admin = {"Authorization": "Bearer demo-admin-token"}
        halts = httpx.get(f"{urls['admin']}/halts", timeout=5, headers=admin).json()
        assert [(h["scope"], h["target"], h["who"]) for h in halts] == [
            ("account", "desk-7", "observe:account_flow")
        ], halts
        stop_serve(proc)
    finally:
        kill_if_running(proc)
    reader.join(5)
    output = "".join(lines.queue)  # the console, as it happened: the trip and its halt
    assert "monitor.tripped: monitor account_flow tripped: halting account desk-7" in output
    assert "halt.applied: halt account:desk-7 by observe:account_flow" in output, output
