"""`interlock serve` routing to a FIX venue: a QuickFIX acceptor plays the exchange (in
this process) behind two serve processes, each with its own config, journal, ports and
CompID. Fills come back to the serve that sent the order; a serve whose market data stops
rejects market orders REFERENCE_PRICE_STALE; a restart resumes the FIX sequence numbers;
with the session down nothing is routed. Loopback only, every wait bounded, every process
stopped at the end (also on failure)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

pytest.importorskip("quickfix")

from interlock.sim.fix import FakeExchange, free_port
from interlock.sim.fix_venue import fake_exchange, fix_venue_table
from interlock.sim.serve_fleet import ServeFleet, ServeProcess

MAX_AGE_MS = 1_500
SYMBOLS = ("AAPL", "MSFT")
COMP_IDS = {"a": "ILKA", "b": "ILKB"}


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
class Rig:
    exchange: FakeExchange
    fleet: ServeFleet  # each member a fleet of one on its own embedded plane
    port: int

    @property
    def a(self) -> ServeProcess:
        return self.fleet["a"]

    @property
    def b(self) -> ServeProcess:
        return self.fleet["b"]

    def start(self, name: str) -> ServeProcess:
        return self.fleet.start(name, config=fix_venue_table(self.port, COMP_IDS[name])
                                ).wait_started()  # fmt: skip


def order(serve: ServeProcess, cl: str, symbol: str, qty: int, price: str | None) -> httpx.Response:
    return serve.submit(cl, symbol=symbol, quantity=qty, price=price, timeout_s=10)


def position(serve: ServeProcess, symbol: str) -> tuple[int, int]:
    return serve.positions().get(symbol, (0, 0))


def stopped(serve: ServeProcess) -> int:
    """Stop `serve`; its exit code."""
    serve.stop(30)
    return int(serve.proc.returncode)


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    root = tmp_path_factory.mktemp("serve-fix-venue")
    port = free_port()
    exchange = fake_exchange(root / "exchange", port, tuple(COMP_IDS.values()), SYMBOLS)
    extra = {"limits": {"collar": {"reference_max_age_ms": MAX_AGE_MS}}}
    fleet = ServeFleet(root / "serves", "embedded", extra=extra)
    rig = Rig(exchange, fleet, port)
    try:
        rig.start("a")
        rig.start("b")
        yield rig
    finally:
        codes = tuple(stopped(m) for m in fleet.members.values())
        exchange.stop()
        assert codes == (0, 0), "\n".join(m.log_tail() for m in fleet.members.values())


def test_each_serve_logs_on_with_its_own_comp_id_and_says_so(rig: Rig) -> None:
    wait_for(lambda: rig.exchange.logged_on_clients() >= {"ILKA", "ILKB"}, 10, "both log on")
    for serve in (rig.a, rig.b):
        assert serve.health()["venue"] == "fix up"
        text = "\n".join(serve.output)
        assert "SIMULATED" not in text and "reference prices from venue" in text, text


def test_fills_from_the_exchange_reach_the_positions_of_the_serve_that_sent_the_order(
    rig: Rig,
) -> None:
    # serve listens only after its Logon, whose V the exchange answers with snapshots
    ra = order(rig.a, "a-1", "AAPL", 100, "100.00")
    rb = order(rig.b, "b-1", "MSFT", 30, "100.00")
    assert (ra.status_code, rb.status_code) == (201, 201), (ra.text, rb.text)
    wait_for(lambda: position(rig.a, "AAPL") == (100, 0), 10, "a's AAPL fill")
    wait_for(lambda: position(rig.b, "MSFT") == (30, 0), 10, "b's MSFT fill")
    assert position(rig.a, "MSFT") == (0, 0) and position(rig.b, "AAPL") == (0, 0)
    assert str(ra.json()["order_id"]) in rig.exchange.orders_of("ILKA")
    assert str(rb.json()["order_id"]) in rig.exchange.orders_of("ILKB")


def test_a_serve_whose_market_data_stops_rejects_market_orders_REFERENCE_PRICE_STALE(
    rig: Rig,
) -> None:
    first = order(rig.a, "a-mkt-1", "AAPL", 10, None)
    assert first.status_code == 201, first.text  # fresh marks: a market order goes
    rig.exchange.pause_market_data()
    try:
        n = iter(range(11, 1_000))  # another size each time: never a DUPLICATE_ORDER

        def refused() -> str | None:
            k = next(n)
            r = order(rig.a, f"a-mkt-{k}", "AAPL", k, None)
            return r.json()["code"] if r.status_code != 201 else None

        # one order per 0.4 s: well inside the per-symbol market-order rate limit
        code = wait_for(refused, MAX_AGE_MS / 1_000 + 5, "a stale mark refuses", every=0.4)
        assert code == "REFERENCE_PRICE_STALE"
    finally:
        rig.exchange.resume_market_data()

    def accepted() -> bool:
        k = next(n)
        return order(rig.a, f"a-mkt-{k}", "AAPL", k, None).status_code == 201

    wait_for(accepted, 5, "fresh marks again: market orders go", every=0.4)


def test_restarting_a_serve_resumes_its_fix_sequence_numbers(rig: Rig) -> None:
    before = rig.exchange.next_expected_seq("ILKA")
    assert before > 3, before  # Logon, V, orders: a session with history
    assert stopped(rig.a) == 0
    wait_for(lambda: "ILKA" not in rig.exchange.logged_on_clients(), 10, "a logs out")
    rig.start("a")
    wait_for(lambda: "ILKA" in rig.exchange.logged_on_clients(), 10, "a logs on again")
    after = rig.exchange.next_expected_seq("ILKA")
    assert after > before, (before, after)  # not reset to 1: no resend storm, no gap fill
    r = order(rig.a, "a-after-restart", "MSFT", 5, "100.00")
    assert r.status_code == 201, r.text
    wait_for(lambda: position(rig.a, "MSFT") == (5, 0), 10, "a's fill after the restart")


def test_a_serve_whose_venue_session_is_down_routes_nothing(rig: Rig) -> None:
    """The existing venue-down behaviour, through serve: `FixVenue.send` refuses with no
    session, the gateway books the order venue-rejected and releases its reservation."""
    held = position(rig.b, "MSFT")
    seen = len(rig.exchange.orders_of("ILKB"))
    rig.exchange.stop()
    wait_for(lambda: rig.b.health()["venue"] == "fix down", 10, "b sees its session down")
    r = order(rig.b, "b-down", "MSFT", 10, "100.00")
    if r.status_code == 201:  # decided before the venue refused: booked, never routed
        booked = rig.b.order(r.json()["order_id"])
        assert booked["status"] == "venue_rejected" and booked["filled"] == 0, booked
    else:  # or the marks went stale with the session first
        assert r.json()["code"] == "REFERENCE_PRICE_STALE", r.text
    assert position(rig.b, "MSFT") == held  # no fill, no reservation left
    assert len(rig.exchange.orders_of("ILKB")) == seen


def test_serve_with_the_simulated_venue_says_so_loudly(tmp_path: Path) -> None:
    fleet = ServeFleet(tmp_path, "embedded")
    try:
        serve = fleet.start("sim").wait_started()
        assert serve.health()["venue"] == "simulated"
        assert "*** SIMULATED VENUE" in "\n".join(serve.output)
    finally:
        assert stopped(fleet["sim"]) == 0
