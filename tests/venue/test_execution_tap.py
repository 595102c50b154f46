"""The execution tap: the gateway first, then listeners; a resent fill is told once."""

from __future__ import annotations

from decimal import Decimal

from interlock.sim.harness import DESK_KEY, build
from interlock.venue.tap import ExecutionTap


class Recorder:
    """A sink (the gateway's part: it judges resends) and a listener, logging each call."""

    def __init__(self, log: list[tuple[object, ...]], name: str) -> None:
        self.log, self.name = log, name
        self.exec_ids: set[tuple[int, str]] = set()

    def on_fill(self, order_id: int, qty: int, price: int, exec_id: str) -> bool:
        self.log.append((self.name, "fill", order_id, qty, exec_id))
        new = (order_id, exec_id) not in self.exec_ids
        self.exec_ids.add((order_id, exec_id))
        return new

    def on_cancelled(self, order_id: int, qty: int, reason: str) -> None:
        self.log.append((self.name, "cancelled", order_id))

    def on_rejected(self, order_id: int, reason: str) -> None:
        self.log.append((self.name, "rejected", order_id))

    def order_filled(self, order_id: int, qty: int, price: int, exec_id: str) -> None:
        self.log.append((self.name, "filled", order_id, qty, exec_id))

    def order_done(self, order_id: int, reason: str, cancelled: bool) -> None:
        self.log.append((self.name, "done", order_id, cancelled))


def test_tap_tells_the_gateway_before_listeners_and_a_resent_fill_once() -> None:
    log: list[tuple[object, ...]] = []
    tap = ExecutionTap(Recorder(log, "gw"))
    tap.add(Recorder(log, "fix"))
    tap.on_fill(1, 10, 100, "e1")
    tap.on_fill(1, 10, 100, "e1")  # a venue resending after a reconnect
    tap.on_cancelled(1, 5, "bye")
    tap.on_rejected(2, "no")
    assert log == [
        ("gw", "fill", 1, 10, "e1"),
        ("fix", "filled", 1, 10, "e1"),
        ("gw", "fill", 1, 10, "e1"),
        ("gw", "cancelled", 1),
        ("fix", "done", 1, True),
        ("gw", "rejected", 2),
        ("fix", "done", 2, False),
    ]


def test_a_failing_listener_does_not_stop_the_others() -> None:
    log: list[tuple[object, ...]] = []

    class Broken(Recorder):
        def order_filled(self, order_id: int, qty: int, price: int, exec_id: str) -> None:
            raise RuntimeError("boom")

    tap = ExecutionTap(Recorder(log, "gw"))
    tap.add(Broken(log, "broken"))
    tap.add(Recorder(log, "fix"))
    tap.on_fill(3, 1, 100, "e9")
    assert ("fix", "filled", 3, 1, "e9") in log


class Heard:
    def __init__(self) -> None:
        self.fills: list[tuple[int, int, str]] = []

    def order_filled(self, order_id: int, qty: int, price: int, exec_id: str) -> None:
        self.fills.append((order_id, qty, exec_id))

    def order_done(self, order_id: int, reason: str, cancelled: bool) -> None:
        pass


def test_a_fill_resent_after_a_gateway_restart_is_not_told_to_listeners() -> None:
    h = build()
    d = h.submit(quantity=100, limit_price=Decimal("99.00"))  # rests
    assert d.order_id is not None
    tap, heard = ExecutionTap(h.gateway), Heard()
    tap.add(heard)
    tap.on_fill(d.order_id, 40, 9_900, "EX-1")
    h.journal.flush()
    h2 = build(journal=h.journal)  # EX-1 is known to the new gateway only from the journal
    tap2, heard2 = ExecutionTap(h2.gateway), Heard()
    tap2.add(heard2)
    tap2.on_fill(d.order_id, 40, 9_900, "EX-1")  # the venue resends after the reconnect
    tap2.on_fill(d.order_id, 10, 9_900, "EX-2")  # and then fills some more
    assert heard.fills == [(d.order_id, 40, "EX-1")]
    assert heard2.fills == [(d.order_id, 10, "EX-2")]
    assert h2.gateway.book.accounts["desk-7"].positions["AAPL"].pos == 50


def test_a_fill_the_gateway_refuses_is_not_told_to_listeners() -> None:
    h = build()
    # decided, not yet released to the venue: that waits for the journal's flush
    d = h.gateway.submit(h.order(limit_price=Decimal("99.00")), DESK_KEY)
    assert d.order_id is not None
    tap, heard = ExecutionTap(h.gateway), Heard()
    tap.add(heard)
    tap.on_fill(d.order_id, 100, 9_900, "X-forged")  # the venue was never sent it
    assert h.gateway.refused_fills == 1 and heard.fills == []
