"""OrderStatusRequest (H) and OrderMassCancelRequest (q) over real QuickFIX.

Mass cancels run on DESK4, a session no other test uses, so counts are exact."""

from __future__ import annotations

import itertools

from fix_rig import FixRig, wait_until

from interlock.domain.enums import OrderStatus
from interlock.fixengine.engine import new_message
from interlock.sim.fix import FixClient

_qty = itertools.count(31)  # every order its own quantity: none is a DUPLICATE_ORDER


def er(cl: str, exec_type: str) -> object:
    return lambda m: m[35] == "8" and m.get(11) == cl and m.get(150) == exec_type


def status(desk: FixClient, cl: str) -> dict[int, str]:
    msg = new_message("H")
    msg.setField(11, cl)
    msg.setField(790, f"req-{cl}")
    desk.send(msg)
    return desk.expect(er(cl, "I"))


def working(desk: FixClient, cl: str, symbol: str = "AAPL") -> int:
    desk.new_order(cl, symbol=symbol, price="99.05", qty=next(_qty))
    return int(desk.expect(er(cl, "0"))[37])


def mass_cancel(desk: FixClient, cl: str, fields: dict[int, str]) -> dict[int, str]:
    msg = new_message("q")
    msg.setField(11, cl)
    for tag, value in fields.items():
        msg.setField(tag, value)
    desk.send(msg)
    return desk.expect(lambda m: m[35] == "r" and m.get(11) == cl)


def test_status_of_a_working_order_is_new_with_its_leaves(rig: FixRig) -> None:
    desk = rig.clients["DESK1"]
    order_id = working(desk, "st-1")
    got = status(desk, "st-1")
    order = rig.harness.gateway.order(order_id)
    assert order is not None
    assert (got[39], got[37], got[14], got[151]) == ("0", str(order_id), "0", str(order.qty))
    assert got[790] == "req-st-1"


def test_status_of_a_filled_order_is_filled_with_its_average_price(rig: FixRig) -> None:
    desk = rig.clients["DESK1"]
    desk.new_order("st-2", price="100.04", qty=277)
    desk.expect(lambda m: m.get(11) == "st-2" and m.get(39) == "2")
    got = status(desk, "st-2")
    assert (got[39], got[14], got[151]) == ("2", "277", "0") and got[6] == "100.010000"


def test_status_of_a_cancelled_order_is_cancelled(rig: FixRig) -> None:
    desk = rig.clients["DESK1"]
    working(desk, "st-3")
    desk.cancel("st-3-x", "st-3")
    desk.expect(er("st-3-x", "4"))
    assert status(desk, "st-3")[39] == "4"


def test_status_of_a_rejected_order_is_rejected(rig: FixRig) -> None:
    desk = rig.clients["DESK1"]
    desk.new_order("st-4", qty=20_000)
    desk.expect(er("st-4", "8"))
    assert status(desk, "st-4")[39] == "8"


def test_status_of_an_unknown_ClOrdID_is_rejected_unknown_order(rig: FixRig) -> None:
    desk = rig.clients["DESK1"]
    got = status(desk, "never-sent-st")
    assert (got[39], got[103], got[37]) == ("8", "5", "NONE") and "unknown" in got[58]


def test_status_of_another_sessions_ClOrdID_is_unknown(rig: FixRig) -> None:
    working(rig.clients["DESK2"], "st-6")
    assert status(rig.clients["DESK1"], "st-6")[39] == "8"


def test_mass_cancel_by_symbol_cancels_only_that_symbols_orders(rig: FixRig) -> None:
    desk, gw = rig.clients["DESK4"], rig.harness.gateway
    aapl = [working(desk, f"mc-a{i}") for i in range(2)]
    msft = working(desk, "mc-m1", symbol="MSFT")
    report = mass_cancel(desk, "mc-1", {530: "1", 55: "AAPL"})
    assert (report[530], report[531], report[533]) == ("1", "1", "2")
    assert wait_until(lambda: all(gw.order(o).status is OrderStatus.CANCELLED for o in aapl))  # type: ignore[union-attr]
    assert gw.order(msft).status is OrderStatus.WORKING  # type: ignore[union-attr]
    report = mass_cancel(desk, "mc-2", {530: "7"})
    assert (report[531], report[533]) == ("7", "1")
    assert wait_until(lambda: gw.order(msft).status is OrderStatus.CANCELLED)  # type: ignore[union-attr]


def test_mass_cancel_of_the_session_never_touches_another_sessions_orders(rig: FixRig) -> None:
    desk, mm, gw = rig.clients["DESK4"], rig.clients["MM"], rig.harness.gateway
    mine, theirs = working(desk, "mc-s1"), working(mm, "mc-t1")
    report = mass_cancel(desk, "mc-3", {530: "7"})
    assert (report[531], report[533]) == ("7", "1")
    assert wait_until(lambda: gw.order(mine).status is OrderStatus.CANCELLED)  # type: ignore[union-attr]
    assert gw.order(theirs).status is OrderStatus.WORKING  # type: ignore[union-attr]


def test_mass_cancel_for_another_account_is_refused_and_cancels_nothing(rig: FixRig) -> None:
    desk, gw = rig.clients["DESK4"], rig.harness.gateway
    mine = working(desk, "mc-o1")
    report = mass_cancel(desk, "mc-4", {530: "7", 1: "mm-1"})
    assert (report[531], report[532], report[533]) == ("0", "99", "0")
    assert report[58].startswith("NOT_ACCOUNT_OWNER: ")
    assert gw.order(mine).status is OrderStatus.WORKING  # type: ignore[union-attr]
    report = mass_cancel(desk, "mc-5", {530: "7", 1: "desk-7"})  # its own account: served
    assert (report[531], report[533]) == ("7", "1")


def test_mass_cancel_of_an_unsupported_type_is_refused(rig: FixRig) -> None:
    desk = rig.clients["DESK4"]
    report = mass_cancel(desk, "mc-6", {530: "4", 461: "ESXXXX"})
    assert (report[531], report[532], report[533]) == ("0", "0", "0")
    report = mass_cancel(desk, "mc-7", {530: "1", 55: "ZZZZ"})
    assert (report[531], report[532]) == ("0", "1")


def test_mass_cancel_without_its_type_gets_BusinessMessageReject(rig: FixRig) -> None:
    desk = rig.clients["DESK4"]
    msg = new_message("q")
    msg.setField(11, "mc-8")
    desk.send(msg)
    rej = desk.expect(lambda m: m[35] == "j")
    assert rej[372] == "q" and rej[371] == "530"
