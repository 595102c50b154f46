"""A desk over FIX 4.4: new, fill, cancel, replace, reject codes, undecodable messages."""

from __future__ import annotations

import pytest
from fix_rig import FixRig, wait_until

from interlock.domain.enums import OrderStatus


def er(cl: str, exec_type: str) -> object:
    return lambda m: m[35] == "8" and m.get(11) == cl and m.get(150) == exec_type


def test_new_order_is_acked_new_once_its_decision_is_durable(rig: FixRig) -> None:
    desk = rig.clients["DESK1"]
    desk.new_order("n1", price="99.90")
    ack = desk.expect(er("n1", "0"))
    assert ack[39] == "0" and ack[151] == "100" and ack[1] == "desk-7"
    order = rig.harness.gateway.order(int(ack[37]))
    assert order is not None and order.status is OrderStatus.WORKING
    assert rig.harness.journal.durable_seq >= order.seq


def test_crossing_order_reports_its_fills_after_the_new_ack(rig: FixRig) -> None:
    desk = rig.clients["DESK1"]
    desk.new_order("f1", price="100.05", qty=300)
    desk.expect(er("f1", "0"))
    fill = desk.expect(er("f1", "F"))
    assert fill[39] in ("1", "2") and fill[31] == "100.01" and int(fill[32]) > 0
    assert int(fill[14]) + int(fill[151]) == 300


@pytest.mark.parametrize(
    ("overrides", "code", "reason"),
    [
        ({"qty": 20_000}, "MAX_ORDER_QTY", "3"),
        ({"symbol": "ZZZZ"}, "UNKNOWN_SYMBOL", "1"),
        ({"symbol": "KCG"}, "RESTRICTED_SYMBOL", "99"),
        ({"price": "150.00"}, "PRICE_COLLAR", "3"),
        ({"extra": {1: "mm-1"}}, "UNAUTHENTICATED", "15"),
        ({"qty": 6_000, "price": "100.00"}, "MAX_ORDER_NOTIONAL", "3"),
    ],
)
def test_rejected_order_carries_code_in_Text_and_OrdRejReason(
    rig: FixRig, overrides: dict[str, object], code: str, reason: str
) -> None:
    desk = rig.clients["DESK1"]
    cl = f"r-{code}"
    desk.new_order(cl, **overrides)  # type: ignore[arg-type]
    rej = desk.expect(er(cl, "8"))
    assert rej[39] == "8" and rej[103] == reason
    assert rej[58].startswith(f"{code}: ")


def test_same_order_twice_rejects_with_DUPLICATE_ORDER(rig: FixRig) -> None:
    desk = rig.clients["DESK1"]
    desk.new_order("d1", price="99.81", qty=7)
    desk.expect(er("d1", "0"))
    desk.new_order("d2", price="99.81", qty=7)
    rej = desk.expect(er("d2", "8"))
    assert rej[103] == "6" and rej[58].startswith("DUPLICATE_ORDER: ")


def test_cancel_reports_cancelled_with_both_ClOrdIDs(rig: FixRig) -> None:
    desk = rig.clients["DESK1"]
    desk.new_order("c1", price="99.80")
    order_id = int(desk.expect(er("c1", "0"))[37])
    desk.cancel("c1-x", "c1")
    done = desk.expect(er("c1-x", "4"))
    assert done[41] == "c1" and done[39] == "4" and done[151] == "0"
    assert rig.harness.gateway.order(order_id).status is OrderStatus.CANCELLED  # type: ignore[union-attr]


def test_cancel_of_unknown_ClOrdID_gets_OrderCancelReject(rig: FixRig) -> None:
    desk = rig.clients["DESK1"]
    desk.cancel("c9-x", "never-sent")
    rej = desk.expect(lambda m: m[35] == "9" and m.get(11) == "c9-x")
    assert rej[434] == "1" and rej[58].startswith("ORDER_NOT_FOUND: ")


def test_replace_is_a_new_order_and_the_original_is_cancelled(rig: FixRig) -> None:
    desk = rig.clients["DESK1"]
    desk.new_order("p1", price="99.70")
    old_id = int(desk.expect(er("p1", "0"))[37])
    desk.replace("p2", "p1", qty=150, price="99.71")
    rep = desk.expect(er("p2", "5"))
    assert rep[41] == "p1" and rep[38] == "150" and int(rep[37]) != old_id
    gw = rig.harness.gateway
    assert wait_until(lambda: gw.order(old_id).status is OrderStatus.CANCELLED)  # type: ignore[union-attr]
    assert gw.order(int(rep[37])).status is OrderStatus.WORKING  # type: ignore[union-attr]


def test_replace_over_the_limits_is_refused_and_the_original_stands(rig: FixRig) -> None:
    desk = rig.clients["DESK1"]
    desk.new_order("q1", price="99.60")
    old_id = int(desk.expect(er("q1", "0"))[37])
    desk.replace("q2", "q1", qty=20_000, price="99.60")
    rej = desk.expect(lambda m: m[35] == "9" and m.get(11) == "q2")
    assert rej[434] == "2" and rej[41] == "q1" and rej[58].startswith("MAX_ORDER_QTY: ")
    assert rig.harness.gateway.order(old_id).status is OrderStatus.WORKING  # type: ignore[union-attr]


def test_two_sessions_may_use_the_same_ClOrdID(rig: FixRig) -> None:
    one, two = rig.clients["DESK1"], rig.clients["DESK2"]
    one.new_order("same-1", price="99.50")
    two.new_order("same-1", price="99.51")
    a, b = one.expect(er("same-1", "0")), two.expect(er("same-1", "0"))
    assert a[37] != b[37]


def test_same_ClOrdID_again_on_one_session_answers_the_first_decision(rig: FixRig) -> None:
    desk = rig.clients["DESK2"]
    desk.new_order("again-1", price="99.40")
    first = desk.expect(er("again-1", "0"))
    desk.new_order("again-1", price="99.40")
    status = desk.expect(er("again-1", "I"))
    assert status[37] == first[37]
    assert len([o for o in rig.harness.gateway.book.orders.values()
                if o.client_order_id == "again-1"]) == 1  # fmt: skip


def test_order_without_Symbol_gets_BusinessMessageReject(rig: FixRig) -> None:
    desk = rig.clients["MM"]
    desk.new_order("b1", symbol=None)
    rej = desk.expect(lambda m: m[35] == "j")
    assert rej[372] == "D" and rej[371] == "55" and "Symbol" in rej[58]


def test_unsupported_message_type_gets_BusinessMessageReject(rig: FixRig) -> None:
    from interlock.fixengine.engine import new_message

    desk = rig.clients["MM"]
    msg = new_message("AF")  # OrderMassStatusRequest: not served here
    msg.setField(584, "s1")
    msg.setField(585, "7")
    desk.send(msg)
    rej = desk.expect(lambda m: m[35] == "j")
    assert rej[372] == "AF" and rej[380] == "3"
