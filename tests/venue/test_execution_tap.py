"""The execution tap: the gateway first, then listeners; a resent fill is told once."""

from __future__ import annotations

from interlock.venue.tap import ExecutionTap


class Recorder:
    def __init__(self, log: list[tuple[object, ...]], name: str) -> None:
        self.log, self.name = log, name

    def on_fill(self, order_id: int, qty: int, price: int, exec_id: str) -> None:
        self.log.append((self.name, "fill", order_id, qty, exec_id))

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
