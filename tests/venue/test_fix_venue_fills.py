"""The FIX venue adapter's own book of leaves: a fill moves it only once the gateway took
the fill, so a fill the gateway dropped (a resend) or could not take leaves the order known
for the venue's resend. A unit test: the ExecutionReport is built by hand, the sink is a
small fake (tests/fix drives the adapter over real QuickFIX sessions)."""

from __future__ import annotations

from pathlib import Path

import quickfix as fix

from interlock.api.config import load_config
from interlock.venue.fix import FixVenue


class Sink:
    def __init__(self, answers: list[bool]) -> None:
        self.answers = answers
        self.fills: list[tuple[int, int, str]] = []

    def on_fill(self, order_id: int, qty: int, price: int, exec_id: str) -> bool:
        self.fills.append((order_id, qty, exec_id))
        return self.answers.pop(0)

    def on_cancelled(self, order_id: int, qty: int, reason: str) -> None: ...

    def on_rejected(self, order_id: int, reason: str) -> None: ...


def fill_report(order_id: int, qty: int, exec_id: str) -> fix.Message:
    msg = fix.Message()
    msg.getHeader().setField(35, "8")
    for tag, value in ((150, "F"), (11, str(order_id)), (32, str(qty)), (31, "100.00"),
                       (17, exec_id)):  # fmt: skip
        msg.setField(tag, value)
    return msg


def test_a_fill_the_gateway_did_not_take_leaves_the_order_known_for_its_resend(
    tmp_path: Path,
) -> None:
    inst = load_config().instrument_map()["AAPL"]
    sink = Sink([False, True, False])
    venue = FixVenue(sink, port=1, work_dir=tmp_path)
    venue._orders[7] = (inst, 100)
    venue._report(fill_report(7, 100, "x-1"))  # not taken (say, the journal refused it)
    assert venue._orders[7] == (inst, 100)  # still known: the resend is not "unknown"
    venue._report(fill_report(7, 100, "x-1"))  # the resend, taken: the order is done
    assert 7 not in venue._orders
    assert sink.fills == [(7, 100, "x-1"), (7, 100, "x-1")]
