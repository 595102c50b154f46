"""FIX sessions: credentials at Logon, and cancel-on-disconnect."""

from __future__ import annotations

import threading

import pytest
import quickfix as fix
from fix_rig import FixRig, wait_until

from interlock.api.fix import reports
from interlock.domain.enums import OrderStatus
from interlock.fixengine.engine import field, msg_type, new_message
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


def test_a_session_dropping_while_its_cancel_reports_go_out_leaves_the_gateway_trading(
    rig: FixRig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """QuickFIX calls onLogout holding the session's mutex, and sending to that session
    takes the same mutex. A cancel's report sent from the release thread under the
    acceptor's lock while the desk logged out (cancel-on-disconnect takes that lock)
    deadlocked every session of the gateway. Here the first cancel report waits until
    QuickFIX is inside the desk's onLogout, then goes: the logout always lands mid-send."""
    name = "drop-mid-cancels"
    desk = FixClient(rig.root / name, rig.port, "DESK3", "desk-7-algo", DESK_KEY, qualifier=name)
    rig.retired.append(desk)  # kept alive: QuickFIX still holds the session
    real_send = reports.send
    sending, in_logout = threading.Event(), threading.Event()
    app = rig.acceptor.app
    real_on_logout = app.onLogout

    def on_logout(session_id: fix.SessionID) -> None:  # QuickFIX holds the session's mutex
        if session_id.getTargetCompID().getValue() == "DESK3":
            in_logout.set()
        real_on_logout(session_id)

    def cancel_reports_wait_for_the_logout(msg: fix.Message, session_id: fix.SessionID) -> None:
        if msg_type(msg) == "8" and field(msg, 150) == "4" and not sending.is_set():
            sending.set()
            in_logout.wait(5)
        real_send(msg, session_id)

    monkeypatch.setattr(app, "onLogout", on_logout)  # SWIG's director looks it up by name
    monkeypatch.setattr(reports, "send", cancel_reports_wait_for_the_logout)
    assert desk.start()
    gw = rig.harness.gateway
    orders = []
    for n in range(4):
        desk.new_order(f"dmc-{n}", price=f"98.{10 + n}")
        ack = desk.expect(lambda m, n=n: m[35] == "8" and m.get(11) == f"dmc-{n}" and m[150] == "0")
        orders.append(gw.order(int(ack[37])))
    mass = new_message("q")
    mass.setField(11, "dmc-mass")
    mass.setField(530, "7")
    desk.send(mass)
    assert sending.wait(5)  # the first cancel report is on its way out
    desk.stop()
    assert wait_until(lambda: all(o is not None and o.status is OrderStatus.CANCELLED
                                  for o in orders), timeout=10)  # fmt: skip
    other = rig.clients["DESK1"]
    other.new_order("dmc-after", price="98.50")
    other.expect(lambda m: m[35] == "8" and m.get(11) == "dmc-after" and m.get(150) == "0",
                 timeout=10)  # fmt: skip


def test_ended_orders_leave_the_open_index_that_disconnect_and_mass_cancel_scan(
    rig: FixRig,
) -> None:
    """Cancel-on-disconnect and mass cancel scan the acceptor's open index, not every order
    of the day (a soak's day holds millions of ended ones): an order that fills or is
    cancelled leaves it, one still working stays, and a drop still cancels that one."""
    name = "open-index"
    desk = FixClient(rig.root / name, rig.port, "DESK3", "desk-7-algo", DESK_KEY, qualifier=name)
    rig.retired.append(desk)
    assert desk.start()
    app = rig.acceptor.app
    desk.new_order("oi-fill", price="100.05")  # marketable: fills (in part, then the rest)
    # prices no other FIX test uses: the rig's clock never moves, so the same order from an
    # earlier test would still be inside the duplicate window
    desk.new_order("oi-cancel", price="99.23")
    desk.new_order("oi-rest", price="99.24")
    for cl in ("oi-cancel", "oi-rest"):
        desk.expect(lambda m, cl=cl: m[35] == "8" and m.get(11) == cl and m.get(150) == "0")
    desk.cancel("oi-cancel-x", "oi-cancel")
    desk.expect(lambda m: m[35] == "8" and m.get(11) == "oi-cancel-x" and m.get(150) == "4")
    mine = {o.cl_ord_id: o for o in app._by_id.values() if o.cl_ord_id.startswith("oi-")}
    fill = mine["oi-fill"]
    assert wait_until(lambda: fill.order is not None and not fill.order.status.is_open)
    assert wait_until(lambda: {o.cl_ord_id for o in app._open.values()
                               if o.cl_ord_id.startswith("oi-")} == {"oi-rest"})  # fmt: skip
    resting = mine["oi-rest"].order
    assert resting is not None and resting.status is OrderStatus.WORKING
    desk.stop()
    assert wait_until(lambda: resting.status is OrderStatus.CANCELLED)
    assert wait_until(lambda: resting.order_id not in app._open)
