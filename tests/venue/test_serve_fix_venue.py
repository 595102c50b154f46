"""`interlock serve` routing to a FIX venue: a QuickFIX acceptor plays the exchange (in
this process) behind two serve processes, each with its own config, journal, ports and
CompID. Fills come back to the serve that sent the order; a serve whose market data stops
rejects market orders REFERENCE_PRICE_STALE; a restart resumes the FIX sequence numbers;
with the session down nothing is routed. Loopback only, every wait bounded, every process
stopped at the end (also on failure)."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

pytest.importorskip("quickfix")

from interlock.sim.fix import FakeExchange, free_port
from interlock.sim.harness import DESK_KEY

ROOT = Path(__file__).resolve().parents[2]
AUTH = {"Authorization": f"Bearer {DESK_KEY}"}
MAX_AGE_MS = 1_500
SYMBOLS = ("AAPL", "MSFT")


def wait_for(pred: Callable[[], object], timeout: float, what: str, every: float = 0.05) -> object:
    """`pred()`'s first truthy value within `timeout` s, polled; AssertionError after."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = pred()
        if got:
            return got
        time.sleep(every)
    raise AssertionError(f"not within {timeout} s: {what}")


@dataclass
class Serve:
    name: str
    config: Path
    proc: subprocess.Popen[str] | None = None
    lines: queue.Queue[str] = field(default_factory=queue.Queue)
    output: list[str] = field(default_factory=list)
    url: str = ""

    def start(self, timeout: float = 30) -> Serve:
        self.lines = queue.Queue()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "interlock.cli", "serve", "--config", str(self.config)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env={**os.environ, "COLUMNS": "200"},
        )  # fmt: skip
        proc, lines = self.proc, self.lines
        threading.Thread(target=lambda: [lines.put(x) for x in proc.stdout or ()],
                         daemon=True).start()  # fmt: skip
        self.url = ""
        deadline = time.monotonic() + timeout
        while not self.url:
            line = self.lines.get(timeout=max(0.1, deadline - time.monotonic()))
            self.output.append(line)
            found = re.search(r"rest listening on (http://127\.0\.0\.1:\d+)", line)
            self.url = found.group(1) if found else ""
            assert "serve failed" not in line, "".join(self.output)
        return self

    def stop(self, timeout: float = 30) -> int:
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return 0 if proc is None else proc.returncode
        proc.send_signal(signal.SIGTERM)
        try:
            return proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            return -9

    def order(self, cl: str, symbol: str, qty: int, price: str | None) -> httpx.Response:
        body: dict[str, object] = {
            "client_order_id": cl, "account": "desk-7", "strategy": "vwap",
            "symbol": symbol, "side": "buy", "quantity": qty,
        }  # fmt: skip
        if price is None:
            body["order_type"] = "market"
        else:
            body["limit_price"] = price
        return httpx.post(f"{self.url}/orders", json=body, headers=AUTH, timeout=10)

    def position(self, symbol: str) -> tuple[int, int]:
        rows = httpx.get(f"{self.url}/positions", headers=AUTH, timeout=5).json()
        for row in rows:
            if row["symbol"] == symbol and row["account"] == "desk-7":
                return row["position"], row["open_buy"]
        return 0, 0

    def health(self) -> dict[str, object]:
        return dict(httpx.get(f"{self.url}/health", timeout=5).json())


def _config(root: Path, name: str, port: int, comp_id: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    text = (ROOT / "src" / "interlock" / "data" / "default.toml").read_text()
    text = text.replace("port = 8640", "port = 0").replace("port = 8641", "port = 0")
    text = text.replace('path = "interlock-journal.db"', f'path = "{root / "journal.db"}"')
    text = text.replace("[calendar]\n", "[calendar]\nalways_open = true\n")
    assert "reference_max_age_ms = 5000" in text
    text = text.replace("reference_max_age_ms = 5000", f"reference_max_age_ms = {MAX_AGE_MS}")
    text += f"""
[venue]
kind = "fix"

[venue.fix]
port = {port}
sender_comp_id = "{comp_id}"
target_comp_id = "VENUE"
heartbeat_s = 5
reconnect_s = 1
logon_timeout_ms = 10000
file_log = false

[reference]
source = "venue"
"""
    path = root / f"{name}.toml"
    path.write_text(text)
    return path


@dataclass
class Rig:
    exchange: FakeExchange
    a: Serve
    b: Serve


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    root = tmp_path_factory.mktemp("serve-fix-venue")
    port = free_port()
    exchange = FakeExchange(
        root / "exchange", port, clients=("ILKA", "ILKB"), reset_on_logon=False,
        mids=dict.fromkeys(SYMBOLS, Decimal("100.00")), publish_every_s=0.3, file_log=False,
    ).start()  # fmt: skip
    a = Serve("a", _config(root / "a", "a", port, "ILKA"))
    b = Serve("b", _config(root / "b", "b", port, "ILKB"))
    try:
        a.start()
        b.start()
        yield Rig(exchange, a, b)
    finally:
        codes = (a.stop(), b.stop())
        exchange.stop()
        assert codes == (0, 0), "".join(a.output + b.output)


def test_each_serve_logs_on_with_its_own_comp_id_and_says_so(rig: Rig) -> None:
    wait_for(lambda: rig.exchange.logged_on_clients() >= {"ILKA", "ILKB"}, 10, "both log on")
    for serve in (rig.a, rig.b):
        assert serve.health()["venue"] == "fix up"
        text = "".join(serve.output)
        assert "SIMULATED" not in text and "reference prices from venue" in text, text


def test_fills_from_the_exchange_reach_the_positions_of_the_serve_that_sent_the_order(
    rig: Rig,
) -> None:
    # serve listens only after its Logon, whose V the exchange answers with snapshots
    ra = rig.a.order("a-1", "AAPL", 100, "100.00")
    rb = rig.b.order("b-1", "MSFT", 30, "100.00")
    assert (ra.status_code, rb.status_code) == (201, 201), (ra.text, rb.text)
    wait_for(lambda: rig.a.position("AAPL") == (100, 0), 10, "a's AAPL fill")
    wait_for(lambda: rig.b.position("MSFT") == (30, 0), 10, "b's MSFT fill")
    assert rig.a.position("MSFT") == (0, 0) and rig.b.position("AAPL") == (0, 0)
    assert str(ra.json()["order_id"]) in rig.exchange.orders_of("ILKA")
    assert str(rb.json()["order_id"]) in rig.exchange.orders_of("ILKB")


def test_a_serve_whose_market_data_stops_rejects_market_orders_REFERENCE_PRICE_STALE(
    rig: Rig,
) -> None:
    first = rig.a.order("a-mkt-1", "AAPL", 10, None)
    assert first.status_code == 201, first.text  # fresh marks: a market order goes
    rig.exchange.pause_market_data()
    try:
        n = iter(range(11, 1_000))  # another size each time: never a DUPLICATE_ORDER

        def refused() -> str | None:
            k = next(n)
            r = rig.a.order(f"a-mkt-{k}", "AAPL", k, None)
            return r.json()["code"] if r.status_code != 201 else None

        # one order per 0.4 s: well inside the per-symbol market-order rate limit
        code = wait_for(refused, MAX_AGE_MS / 1_000 + 5, "a stale mark refuses", every=0.4)
        assert code == "REFERENCE_PRICE_STALE"
    finally:
        rig.exchange.resume_market_data()

    def accepted() -> bool:
        k = next(n)
        return rig.a.order(f"a-mkt-{k}", "AAPL", k, None).status_code == 201

    wait_for(accepted, 5, "fresh marks again: market orders go", every=0.4)


def test_restarting_a_serve_resumes_its_fix_sequence_numbers(rig: Rig) -> None:
    before = rig.exchange.next_expected_seq("ILKA")
    assert before > 3, before  # Logon, V, orders: a session with history
    assert rig.a.stop() == 0
    wait_for(lambda: "ILKA" not in rig.exchange.logged_on_clients(), 10, "a logs out")
    rig.a.start()
    wait_for(lambda: "ILKA" in rig.exchange.logged_on_clients(), 10, "a logs on again")
    after = rig.exchange.next_expected_seq("ILKA")
    assert after > before, (before, after)  # not reset to 1: no resend storm, no gap fill
    r = rig.a.order("a-after-restart", "MSFT", 5, "100.00")
    assert r.status_code == 201, r.text
    wait_for(lambda: rig.a.position("MSFT") == (5, 0), 10, "a's fill after the restart")


def test_a_serve_whose_venue_session_is_down_routes_nothing(rig: Rig) -> None:
    """The existing venue-down behaviour, through serve: `FixVenue.send` refuses with no
    session, the gateway books the order venue-rejected and releases its reservation."""
    held = rig.b.position("MSFT")
    seen = len(rig.exchange.orders_of("ILKB"))
    rig.exchange.stop()
    wait_for(lambda: rig.b.health()["venue"] == "fix down", 10, "b sees its session down")
    r = rig.b.order("b-down", "MSFT", 10, "100.00")
    if r.status_code == 201:  # decided before the venue refused: booked, never routed
        order = httpx.get(f"{rig.b.url}/orders/{r.json()['order_id']}", headers=AUTH,
                          timeout=5).json()  # fmt: skip
        assert order["status"] == "venue_rejected" and order["filled"] == 0, order
    else:  # or the marks went stale with the session first
        assert r.json()["code"] == "REFERENCE_PRICE_STALE", r.text
    assert rig.b.position("MSFT") == held  # no fill, no reservation left
    assert len(rig.exchange.orders_of("ILKB")) == seen


def test_serve_with_the_simulated_venue_says_so_loudly(tmp_path: Path) -> None:
    config = tmp_path / "sim.toml"
    text = (ROOT / "src" / "interlock" / "data" / "default.toml").read_text()
    text = text.replace("port = 8640", "port = 0").replace("port = 8641", "port = 0")
    config.write_text(text.replace('path = "interlock-journal.db"',
                                   f'path = "{tmp_path / "journal.db"}"'))  # fmt: skip
    serve = Serve("sim", config)
    try:
        serve.start()
        assert serve.health()["venue"] == "simulated"
        assert "*** SIMULATED VENUE" in "".join(serve.output)
    finally:
        assert serve.stop() == 0
