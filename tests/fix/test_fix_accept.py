"""The acceptor knows an order from its accept, and its session's principal from logon.

A venue that fills inside `send` (on the journal's thread, before the ack) and a FIX
thread still inside `Gateway.submit` when the fills land: the desk still gets New, then
each fill with the gateway's CumQty and AvgPx. And a session's key is looked up once, at
logon, however many orders and cancels follow.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fix_rig import FixRig, wait_until

from interlock.api.fix import FixAcceptor, FixAcceptorConfig, FixLogin
from interlock.domain.decision import Decision
from interlock.domain.order import Order
from interlock.fixengine.engine import new_message
from interlock.gateway.auth import Principal
from interlock.gateway.gateway import Gateway
from interlock.journal.sqlite import SqliteJournal
from interlock.sim.fix import FixClient, free_port
from interlock.sim.harness import DESK_KEY, build, high_rate
from interlock.venue.base import ExecutionSink
from interlock.venue.tap import ExecutionTap


def er(cl: str, exec_type: str) -> Any:
    return lambda m: m[35] == "8" and m.get(11) == cl and m.get(150) == exec_type


class FillsInsideSend:
    """Fills a third of each order one tick under its limit, then the rest at the limit,
    both inside `send`: on the journal's release thread, before the gateway acks."""

    def __init__(self) -> None:
        self.sink: ExecutionSink | None = None
        self.threads: list[str] = []

    def send(self, order: Order) -> None:
        assert self.sink is not None
        self.threads.append(threading.current_thread().name)
        first = order.qty // 3
        self.sink.on_fill(order.order_id, first, order.price - 1, f"{order.order_id}-a")
        self.sink.on_fill(order.order_id, order.qty - first, order.price, f"{order.order_id}-b")

    def cancel(self, order_id: int) -> None:
        pass


class EarlyRig:
    def __init__(
        self, gateway: Gateway, venue: FillsInsideSend, desk: FixClient, acceptor: FixAcceptor
    ) -> None:
        self.gateway, self.venue, self.desk, self.acceptor = gateway, venue, desk, acceptor


@pytest.fixture(scope="module")
def early(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EarlyRig]:
    root = tmp_path_factory.mktemp("fix-early")
    h = build(high_rate(), journal=SqliteJournal(root / "journal.db"), start=False)
    venue = FillsInsideSend()
    gw = h.gateway
    gw.venue = venue
    tap = ExecutionTap(gw)
    venue.sink = tap
    gw.start()
    h.refresh_references()
    port = free_port()
    login = FixLogin(comp_id="EARLY", username="desk-7-algo", account="desk-7", strategy="vwap")
    acceptor = FixAcceptor(gw, tap, FixAcceptorConfig(port=port, sessions=(login,)),
                           root / "acceptor").start()  # fmt: skip
    desk = FixClient(root / "EARLY", port, "EARLY", "desk-7-algo", DESK_KEY)
    assert desk.start()
    yield EarlyRig(gw, venue, desk, acceptor)
    desk.stop()
    acceptor.stop()
    gw.close()


def test_fills_landing_before_submit_returns_to_the_fix_thread_are_reported_with_cumqty_and_avgpx(
    early: EarlyRig, monkeypatch: pytest.MonkeyPatch
) -> None:
    gw, real_submit = early.gateway, early.gateway.submit
    filled_before_return: list[bool] = []
    release_ack = threading.Event()

    def held(ack: Callable[[Decision], None]) -> Callable[[Decision], None]:
        def later(decision: Decision) -> None:
            release_ack.wait(10.0)  # bounded: the test sets it once the desk saw the fills
            ack(decision)

        return later

    def submit(request: Any, caller: Any, on_ack: Any = None, on_accept: Any = None) -> Decision:
        """The FIX thread is held inside submit until the venue filled the order; the ack
        is held until the desk has seen the fills and asked for the order's status."""
        decision = real_submit(request, caller, held(on_ack), on_accept)
        order = gw.order(decision.order_id) if decision.order_id is not None else None
        if order is not None:
            filled_before_return.append(wait_until(lambda: order.filled == order.qty))
        return decision

    monkeypatch.setattr(gw, "submit", submit)
    early.desk.new_order("early-1", qty=300, price="100.00")
    new = early.desk.expect(er("early-1", "0"))
    assert wait_until(lambda: bool(filled_before_return)) and filled_before_return == [True]
    assert early.venue.threads and threading.current_thread().name not in early.venue.threads
    assert (new[39], new[14], new[151]) == ("0", "0", "300")
    first = early.desk.expect(er("early-1", "F"))
    assert (first[32], first[31], first[14], first[151]) == ("100", "99.99", "100", "200")
    assert (first[39], first[6]) == ("1", "99.990000")
    last = early.desk.expect(er("early-1", "F"))
    assert (last[32], last[31], last[14], last[151]) == ("200", "100.00", "300", "0")
    assert (last[39], last[6]) == ("2", "99.996667")  # (100 x 99.99 + 200 x 100.00) / 300
    status = new_message("H")
    status.setField(11, "early-1")
    early.desk.send(status)  # the ack is still held: the ClOrdID resolves all the same
    now = early.desk.expect(er("early-1", "I"))
    assert (now[39], now[14], now[151], now[6]) == ("2", "300", "0", "99.996667")
    release_ack.set()
    record = early.acceptor.app._orders[("EARLY", "early-1")]
    assert wait_until(lambda: record.acked)  # set with the ack's report, under one lock
    early.desk.send(status)
    seen: list[str] = []

    def until_status(m: dict[int, str]) -> bool:
        seen.append(m.get(150, ""))
        return bool(er("early-1", "I")(m))

    early.desk.expect(until_status)
    assert seen == ["I"]  # the late ack sent no second New


class CountingKeys(dict[str, Principal]):
    """The authenticator's key cache, counting every lookup of a key (cached or not)."""

    lookups = 0

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        self.lookups += 1
        return super().get(key, default)


def test_a_fix_session_resolves_its_key_once_at_logon_not_per_order(
    rig: FixRig, monkeypatch: pytest.MonkeyPatch
) -> None:
    auth = rig.harness.gateway.auth
    keys = CountingKeys(auth._known)
    monkeypatch.setattr(auth, "_known", keys)
    name = "once-at-logon"
    desk = FixClient(rig.root / name, rig.port, "DESK3", "desk-7-algo", DESK_KEY, qualifier=name)
    rig.retired.append(desk)  # kept alive: QuickFIX still holds the session
    assert desk.start()
    assert keys.lookups == 1
    for n in range(3):
        desk.new_order(f"once-{n}", price=f"99.{20 + n}", qty=10 + n)
        desk.expect(er(f"once-{n}", "0"))
    desk.cancel("once-0-x", "once-0")
    desk.expect(er("once-0-x", "4"))
    mass = new_message("q")
    mass.setField(11, "once-mass")
    mass.setField(530, "7")
    desk.send(mass)
    report = desk.expect(lambda m: m[35] == "r" and m.get(11) == "once-mass")
    assert report[533] == "2"
    assert keys.lookups == 1
    desk.stop()
