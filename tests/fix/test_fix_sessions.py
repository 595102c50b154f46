"""FIX sessions: credentials at Logon, and cancel-on-disconnect."""

from __future__ import annotations

from fix_rig import FixRig, wait_until

from interlock.domain.enums import OrderStatus
from interlock.sim.fix import FixClient
from interlock.sim.harness import DESK_KEY, MM_KEY


def _refused(rig: FixRig, comp_id: str, username: str, key: str) -> bool:
    name = f"bad{len(rig.retired)}"
    client = FixClient(rig.root / name, rig.port, comp_id, username, key, qualifier=name)
    rig.retired.append(client)  # kept alive: QuickFIX still holds the session
    try:
        return not client.start(timeout=0.5)
    finally:
        client.stop()


def test_logon_with_a_wrong_password_is_refused(rig: FixRig) -> None:
    assert _refused(rig, "DESK3", "desk-7-algo", "not-the-key")


def test_logon_with_another_principals_key_is_refused(rig: FixRig) -> None:
    assert _refused(rig, "DESK3", "market-making", MM_KEY)


def test_logon_from_an_unknown_CompID_is_refused(rig: FixRig) -> None:
    assert _refused(rig, "NOBODY", "desk-7-algo", DESK_KEY)


def test_dropped_session_cancels_its_working_orders(rig: FixRig) -> None:
    desk = rig.client("DESK3")
    assert desk.start()
    desk.new_order("cod-1", price="99.30")
    ack = desk.expect(lambda m: m[35] == "8" and m.get(11) == "cod-1" and m.get(150) == "0")
    gw = rig.harness.gateway
    order = gw.order(int(ack[37]))
    assert order is not None and order.status is OrderStatus.WORKING
    desk.stop()
    rig.retired.append(rig.clients.pop("DESK3"))
    assert wait_until(lambda: order.status is OrderStatus.CANCELLED)
