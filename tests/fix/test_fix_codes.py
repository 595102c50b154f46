"""Every refusal the FIX acceptor sends carries Text (58) `CODE: sentence` with CODE a
member of the one enum: order rejects, cancel rejects, business rejects, mass cancel
refusals and the status of an unknown ClOrdID, each driven over real QuickFIX."""

from __future__ import annotations

import itertools
from collections.abc import Callable

from fix_rig import FixRig

from interlock.domain.reject import RejectCode
from interlock.fixengine.engine import new_message
from interlock.sim.fix import FixClient

_qty = itertools.count(71)  # every order its own quantity: none is a DUPLICATE_ORDER
Fields = dict[int, str]


def code_of(text: str) -> RejectCode:
    """The code leading `text`; fails unless it is a member followed by ': '."""
    head, sep, reason = text.partition(": ")
    assert sep and reason, text
    return RejectCode(head)


def reply(desk: FixClient, pred: Callable[[Fields], bool]) -> Fields:
    return desk.expect(pred)


def test_order_rejects_lead_their_text_with_the_code(rig: FixRig) -> None:
    desk = rig.clients["DESK2"]
    cases = {
        "fc-sym": ({"symbol": "ZZZZ"}, RejectCode.UNKNOWN_SYMBOL),
        "fc-qty": ({"qty": 1_000_000}, RejectCode.MAX_ORDER_QTY),
        "fc-tick": ({"price": "100.005"}, RejectCode.SCHEMA_INVALID),
        "fc-acct": ({"extra": {1: "mm-1"}}, RejectCode.UNAUTHENTICATED),
    }
    for cl, (kwargs, code) in cases.items():
        args = {"qty": next(_qty), **kwargs}
        desk.new_order(cl, **args)  # type: ignore[arg-type]
        got = reply(desk, lambda m, cl=cl: m[35] == "8" and m.get(11) == cl)
        assert got[150] == "8" and code_of(got[58]) is code, got[58]


def test_cancel_of_an_unknown_ClOrdID_is_ORDER_NOT_FOUND_and_of_a_closed_one_ORDER_NOT_OPEN(
    rig: FixRig,
) -> None:
    desk = rig.clients["DESK2"]
    desk.cancel("fc-x1", "fc-never-sent")
    got = reply(desk, lambda m: m[35] == "9" and m.get(11) == "fc-x1")
    assert code_of(got[58]) is RejectCode.ORDER_NOT_FOUND, got[58]
    desk.new_order("fc-c1", price="99.05", qty=next(_qty))
    reply(desk, lambda m: m[35] == "8" and m.get(11) == "fc-c1" and m.get(150) == "0")
    desk.cancel("fc-x2", "fc-c1")
    reply(desk, lambda m: m[35] == "8" and m.get(11) == "fc-x2" and m.get(150) == "4")
    for cl, send in (
        ("fc-x3", lambda: desk.cancel("fc-x3", "fc-c1")),
        ("fc-r1", lambda: desk.replace("fc-r1", "fc-c1", next(_qty), "99.05")),
    ):
        send()
        got = reply(desk, lambda m, cl=cl: m[35] == "9" and m.get(11) == cl)
        assert code_of(got[58]) is RejectCode.ORDER_NOT_OPEN, got[58]


def test_business_rejects_lead_their_text_with_the_code(rig: FixRig) -> None:
    desk = rig.clients["DESK2"]
    cases: list[tuple[str, dict[int, str], RejectCode]] = [
        ("R", {131: "fc-quote"}, RejectCode.NOT_SUPPORTED),  # QuoteRequest: not served
        ("F", {11: "fc-b1"}, RejectCode.SCHEMA_INVALID),  # OrigClOrdID (41) missing
        ("H", {790: "fc-b2"}, RejectCode.SCHEMA_INVALID),  # ClOrdID (11) missing
        ("D", {11: "fc-b3", 55: "AAPL", 54: "9", 38: "100"}, RejectCode.SCHEMA_INVALID),
        ("D", {11: "fc-b4", 55: "AAPL", 54: "1"}, RejectCode.SCHEMA_INVALID),  # no 38
    ]
    for kind, fields, code in cases:
        msg = new_message(kind)
        for tag, value in fields.items():
            msg.setField(tag, value)
        desk.send(msg)
        got = reply(desk, lambda m, kind=kind: m[35] == "j" and m.get(372) == kind)
        assert code_of(got[58]) is code, got[58]


def test_mass_cancel_refusals_and_unknown_status_lead_their_text_with_the_code(
    rig: FixRig,
) -> None:
    desk = rig.clients["DESK2"]
    cases = [
        ("fc-m1", {530: "4"}, RejectCode.NOT_SUPPORTED),
        ("fc-m2", {530: "1", 55: "ZZZZ"}, RejectCode.UNKNOWN_SYMBOL),
        ("fc-m3", {530: "7", 1: "mm-1"}, RejectCode.NOT_ACCOUNT_OWNER),
    ]
    for cl, fields, code in cases:
        msg = new_message("q")
        msg.setField(11, cl)
        for tag, value in fields.items():
            msg.setField(tag, value)
        desk.send(msg)
        got = reply(desk, lambda m, cl=cl: m[35] == "r" and m.get(11) == cl)
        assert got[531] == "0" and code_of(got[58]) is code, got[58]
    msg = new_message("H")
    msg.setField(11, "fc-nobody")
    desk.send(msg)
    got = reply(desk, lambda m: m[35] == "8" and m.get(11) == "fc-nobody")
    assert code_of(got[58]) is RejectCode.ORDER_NOT_FOUND, got[58]
