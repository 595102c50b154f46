"""The message throttle over FIX: a replace (G) spends two messages (its new half and the
cancel of the original), a cancel (F) one, a message the acceptor answers itself none; over
the throttle a new order, a cancel and a mass cancel are refused with MESSAGE_RATE."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

pytest.importorskip("quickfix")

from fix_rig import FixRig, wait_until

from interlock.api.config import parse_config
from interlock.api.fix import FixAcceptor, FixAcceptorConfig, FixLogin
from interlock.domain.enums import OrderStatus
from interlock.fixengine.codec import new_message
from interlock.journal.sqlite import SqliteJournal
from interlock.sim.fix import free_port
from interlock.sim.harness import build, high_rate
from interlock.venue.tap import ExecutionTap

BUDGET = 5
"""Messages of the session in the window; the rig's clock never moves, so none slides out."""


def er(cl: str, exec_type: str) -> object:
    return lambda m: m[35] == "8" and m.get(11) == cl and m.get(150) == exec_type


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FixRig]:
    root = tmp_path_factory.mktemp("fix-messages")
    data = high_rate().model_dump(mode="json")  # every other envelope out of reach
    data["limits"]["messages"] = {"per_session": {"count": BUDGET, "window_ms": 1_000}}
    harness = build(parse_config(data, "FIX throttle test config"),
                    journal=SqliteJournal(root / "journal.db"))  # fmt: skip
    tap = ExecutionTap(harness.gateway)
    harness.venue.attach(tap)
    port = free_port()
    login = FixLogin(comp_id="DESK9", username="desk-7-algo", account="desk-7", strategy="vwap")
    acceptor = FixAcceptor(harness.gateway, tap, FixAcceptorConfig(port=port, sessions=(login,)),
                           root / "acceptor").start()  # fmt: skip
    r = FixRig(harness, acceptor, port, root, {})
    assert r.client("DESK9").start()
    yield r
    for c in r.clients.values():
        c.stop()
    acceptor.stop()
    harness.gateway.close()


def test_replace_spends_two_messages_and_the_throttle_refuses_order_cancel_and_mass_cancel(
    rig: FixRig,
) -> None:
    desk, gw = rig.clients["DESK9"], rig.harness.gateway
    stamps = gw.book.messages.sessions.windows

    def spent() -> int:
        w = stamps.get("desk-7-algo")
        return 0 if w is None else len(w.stamps)

    desk.new_order("m1", price="99.70")
    old_id = int(desk.expect(er("m1", "0"))[37])
    desk.replace("m2", "m1", qty=150, price="99.71")
    desk.expect(er("m2", "5"))
    assert wait_until(lambda: gw.order(old_id).status is OrderStatus.CANCELLED)  # type: ignore[union-attr]
    assert spent() == 3  # the new order, the replace's new half, the original's cancel
    desk.send(new_message("R"))  # a type the acceptor does not serve: answered there
    desk.expect(lambda m: m[35] == "j")
    assert spent() == 3
    desk.new_order("m3", price="99.69", qty=60)
    desk.expect(er("m3", "0"))
    desk.cancel("m3-x", "m3")
    desk.expect(er("m3-x", "4"))
    assert spent() == BUDGET
    desk.new_order("m4", price="99.68", qty=70)
    refused = desk.expect(er("m4", "8"))
    assert refused[58].startswith("MESSAGE_RATE: session desk-7-algo messages (new order)")
    desk.cancel("m2-x", "m2")
    cancel = desk.expect(lambda m: m[35] == "9" and m.get(11) == "m2-x")
    assert cancel[58].startswith("MESSAGE_RATE: session desk-7-algo messages (cancel)")
    mass = new_message("q")
    mass.setField(11, "mass-1")
    mass.setField(530, "7")
    desk.send(mass)
    report = desk.expect(lambda m: m[35] == "r" and m.get(11) == "mass-1")
    assert report[58].startswith("MESSAGE_RATE: session desk-7-algo messages (mass cancel)")
    assert spent() == BUDGET  # refused for the throttle: spent nothing
