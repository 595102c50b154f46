"""`interlock serve` with a drop copy (`[venue.drop_copy]`), as a desk runs it: a QuickFIX
acceptor in this process plays the venue's order entry (FakeExchange) and, on another
port and session, its drop copy (FakeDropCopy), which copies every report the exchange
sends; the test injects executions of a rogue server there. Checked through the serve's
own ports only: /health, /metrics, the dashboard, orders. Loopback only, waits bounded."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

pytest.importorskip("quickfix")

from interlock.sim.drop_copy import DROP_COPY_COMP_ID, FakeDropCopy
from interlock.sim.fix import FakeExchange, free_port
from interlock.sim.fix_venue import fake_exchange, fix_venue_table
from interlock.sim.harness import MM_KEY
from interlock.sim.serve_fleet import ADMIN_TOKEN, ServeFleet, ServeProcess, wait_until

COMP_ID, DC_COMP_ID = "ILKD", "ILKD-DC"
CONFIRM_MS = 3_000  # a fill on the drop copy must reach the gateway's own session this soon


@dataclass
class Rig:
    exchange: FakeExchange
    drop_copy: FakeDropCopy
    fleet: ServeFleet
    config: dict[str, object]

    @property
    def serve(self) -> ServeProcess:
        return self.fleet["gw-1"]

    def start(self) -> ServeProcess:
        return self.fleet.start("gw-1", config=self.config).wait_started()


def _value(serve: ServeProcess, name: str, **labels: str) -> float:
    text = httpx.get(f"{serve.admin_url}/metrics", timeout=5,
                     headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}).text  # fmt: skip
    want = ",".join(f'{k}="{v}"' for k, v in labels.items())
    for line in text.splitlines():
        if line.startswith(name + "{") and want in line:
            return float(line.rsplit(" ", 1)[1])
    return float("nan")


def _dashboard(serve: ServeProcess) -> str:
    with httpx.Client(base_url=serve.admin_url, timeout=10) as client:
        assert client.post("/dashboard/login", data={"token": ADMIN_TOKEN}).status_code == 303
        return client.get("/dashboard").text


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    root = tmp_path_factory.mktemp("serve-drop-copy")
    port, dc_port = free_port(), free_port()
    exchange = fake_exchange(root / "exchange", port, (COMP_ID,), ("AAPL", "MSFT"))
    drop_copy = FakeDropCopy(root / "drop-copy", dc_port, client=DC_COMP_ID).start()
    exchange.drop_copy = drop_copy
    config = fix_venue_table(port, COMP_ID)
    config["venue"]["drop_copy"] = {  # type: ignore[index]
        "port": dc_port, "sender_comp_id": DC_COMP_ID, "target_comp_id": DROP_COPY_COMP_ID,
        "heartbeat_s": 5, "reconnect_s": 1, "file_log": False, "confirm_within_ms": CONFIRM_MS,
    }  # fmt: skip
    fleet = ServeFleet(root / "serves", "embedded")
    rig = Rig(exchange, drop_copy, fleet, config)
    try:
        rig.start()
        yield rig
    finally:
        fleet.close()
        exchange.stop()
        drop_copy.stop()


def test_1_normal_trading_is_no_break(rig: Rig) -> None:
    serve = rig.serve
    wait_until(lambda: serve.health().get("drop_copy") == "up", 10, "drop copy up")
    r = serve.submit("n-1", quantity=100)
    assert r.status_code == 201, r.text
    wait_until(lambda: serve.positions().get("AAPL") == (100, 0), 10, "the fill")
    wait_until(lambda: _value(serve, "interlock_drop_copy_reports_total", outcome="matched")
               >= 3, 10, "the ack and two fills matched")  # fmt: skip
    assert serve.health()["drop_copy_breaks"] == 0
    assert _value(serve, "interlock_drop_copy_breaks_total", kind="foreign") == 0
    assert _value(serve, "interlock_drop_copy_up") == 1
    assert any(f"drop copy {DC_COMP_ID} -> {DROP_COPY_COMP_ID}" in line and "logged on" in line
               for line in serve.output), serve.log_tail()  # fmt: skip


def test_3_a_drop_copy_ahead_of_the_order_entry_report_is_no_break(rig: Rig) -> None:
    serve = rig.serve
    before = _value(serve, "interlock_drop_copy_reports_total", outcome="matched")
    rig.exchange.hold_reports()  # the gateway's own session hears nothing yet
    try:
        r = serve.submit("race-1", symbol="MSFT", quantity=40)
        assert r.status_code == 201, r.text
        wait_until(lambda: _value(serve, "interlock_drop_copy_reports_total", outcome="matched")
                   >= before + 3, 10, "the copies matched first")  # fmt: skip
        assert serve.positions().get("MSFT", (0, 0))[0] == 0  # its own fills not in yet
    finally:
        assert rig.exchange.release_reports() >= 3
    wait_until(lambda: serve.positions().get("MSFT") == (40, 0), 10, "its own fills")
    assert serve.health()["drop_copy_breaks"] == 0


def test_2_a_foreign_execution_halts_the_account_and_shows_everywhere(rig: Rig) -> None:
    serve = rig.serve
    rig.drop_copy.inject("ROGUE-1", "desk-7", "AAPL", 500)
    wait_until(lambda: serve.health().get("drop_copy_breaks") == 1, 10, "the break")
    assert _value(serve, "interlock_drop_copy_breaks_total", kind="foreign") == 1
    halts = serve.admin("GET", "/halts")
    mine = [h for h in halts if h["scope"] == "account" and h["target"] == "desk-7"]
    assert mine and "drop copy" in mine[0]["reason"] and "R1" in mine[0]["reason"], halts
    r = serve.submit("after-1", quantity=10)
    assert r.status_code != 201 and "HALTED" in r.text, r.text
    page = _dashboard(serve)
    assert 'id="drop-copy-breaks"' in page and 'data-exec="R1"' in page, page
    assert any("alert drop_copy_break fired" in line for line in serve.output)


def test_4_a_possdup_resend_is_not_counted_twice(rig: Rig) -> None:
    serve = rig.serve
    before = _value(serve, "interlock_drop_copy_reports_total", outcome="duplicate")
    rig.drop_copy.resend()  # the rogue fill again, PossDup, as after a reconnect
    wait_until(lambda: _value(serve, "interlock_drop_copy_reports_total", outcome="duplicate")
               == before + 1, 10, "the duplicate seen")  # fmt: skip
    assert serve.health()["drop_copy_breaks"] == 1


def test_5_the_drop_copy_dropping_is_visible_alerted_and_catches_up(rig: Rig) -> None:
    serve = rig.serve
    rig.drop_copy.drop()
    try:
        wait_until(lambda: serve.health().get("drop_copy") == "down", 10, "down on /health")
        assert _value(serve, "interlock_drop_copy_up") == 0
        assert re.search(r"DOWN: executions are not being compared", _dashboard(serve))
        assert any("alert drop_copy_down fired" in line for line in serve.output)
        body = {
            "client_order_id": "blind-1",
            "account": "mm-1",
            "strategy": "mm",
            "symbol": "MSFT",
            "side": "buy",
            "quantity": 5,
            "limit_price": "100.00",
        }
        r = httpx.post(f"{serve.rest_url}/orders", json=body, timeout=5,
                       headers={"Authorization": f"Bearer {MM_KEY}"})  # fmt: skip
        assert r.status_code == 201, r.text  # blind is alerted, not blocking (drop-copy.md)
        rig.drop_copy.inject("ROGUE-2", "mm-1", "MSFT", 300)  # stored: the session is down
    finally:
        rig.drop_copy.readmit()
    wait_until(lambda: serve.health().get("drop_copy") == "up", 15, "back up")
    # the venue resends what the drop copy missed: the rogue fill made while blind is caught
    wait_until(lambda: serve.health().get("drop_copy_breaks") == 2, 15, "the missed break")
    halts = serve.admin("GET", "/halts")
    assert any(h["scope"] == "account" and h["target"] == "mm-1" for h in halts), halts


def test_6_a_restart_keeps_the_halt_and_the_break(rig: Rig) -> None:
    rig.serve.stop(30)
    serve = rig.start()
    wait_until(lambda: serve.health().get("drop_copy") == "up", 15, "drop copy up again")
    assert serve.health()["drop_copy_breaks"] == 2
    r = serve.submit("after-restart", quantity=11)
    assert r.status_code != 201 and "HALTED" in r.text, r.text


def test_7_a_fill_its_own_session_never_delivers_is_an_unconfirmed_break(rig: Rig) -> None:
    serve = rig.serve
    assert serve.admin("POST", "/resume", {"scope": "account", "target": "desk-7"})["lifted"]
    rig.exchange.hold_reports()  # the venue traded; the gateway's own session hears nothing
    try:
        r = serve.submit("lost-1", symbol="MSFT", quantity=21)
        assert r.status_code == 201, r.text
        wait_until(lambda: _value(serve, "interlock_drop_copy_breaks_total", kind="unconfirmed")
                   >= 1, CONFIRM_MS / 1_000 + 10, "the unconfirmed fill")  # fmt: skip
        halts = serve.admin("GET", "/halts")
        mine = [h for h in halts if h["scope"] == "account" and h["target"] == "desk-7"]
        assert mine and "unconfirmed" in mine[0]["reason"], halts
    finally:
        rig.exchange.release_reports()
    wait_until(lambda: serve.positions().get("MSFT", (0, 0))[0] == 61, 10, "the late fills")
