"""Control characters in a FIX order's ids never reach the gateway: over a real QuickFIX
session on 127.0.0.1 the acceptor answers a BusinessMessageReject naming the tag. So are
bytes that are not UTF-8 in any id it reads or echoes, and an OrderQty no int can hold."""

from __future__ import annotations

import pytest
from fix_rig import FixRig, logged_off, wait_until

from interlock.sim.harness import DESK_KEY


@pytest.mark.parametrize(
    ("tag", "cl_ord_id", "symbol", "extra"),
    [
        (11, "ctl-\x1b[2J", "AAPL", {}),
        (11, "ctl-\x7f", "AAPL", {}),
        (55, "ctl-sym", "AA\x07PL", {}),
        (1, "ctl-acct", "AAPL", {1: "desk-7\x1b]0;x"}),
    ],
    ids=["ClOrdID-ESC", "ClOrdID-DEL", "Symbol-BEL", "Account-OSC"],
)
def test_a_control_character_in_an_id_is_rejected_naming_its_tag(
    rig: FixRig, tag: int, cl_ord_id: str, symbol: str, extra: dict[int, str]
) -> None:
    desk = rig.clients["DESK1"]
    before = len(rig.harness.gateway.book.orders)
    desk.new_order(cl_ord_id, symbol=symbol, extra=extra)
    rej = desk.expect(lambda m: m[35] == "j" and m.get(371) == str(tag))
    assert rej[372] == "D" and rej[58].startswith("SCHEMA_INVALID:"), rej
    assert all(ch.isprintable() for ch in rej[58]), rej[58]  # the echo is escaped
    assert len(rig.harness.gateway.book.orders) == before


# Found by the FIX fuzz (sim/fix_fuzz.py): bytes no QuickFIX initiator can send, so a raw
# socket session on DESK3 sends them. Each was answered INTERNAL_ERROR (a fault logged at
# error level, and paged as a pre-open warning) or, for an exponent bomb, stalled the
# acceptor for good while it built a billion-digit int holding the GIL.
@pytest.mark.parametrize(
    ("msg_type", "body", "tag"),
    [
        (b"F", [(b"11", b"fz-f1"), (b"41", b"\xff\xfe")], 41),
        (b"F", [(b"11", b"\xed\xa0\x80"), (b"41", b"fz-x")], 11),
        (b"H", [(b"11", b"fz-h1"), (b"790", b"\xff")], 790),
        (b"H", [(b"11", b"fz-h2"), (b"55", b"\xc0")], 55),
        (b"q", [(b"11", b"fz-q1"), (b"530", b"\xfe")], 530),
        (b"G", [(b"11", b"fz-g1"), (b"41", b"\xff"), (b"55", b"AAPL"), (b"54", b"1"),
                (b"38", b"100"), (b"40", b"2"), (b"44", b"100.00")], 41),
        (b"D", [(b"11", b"fz-d1"), (b"55", b"AAPL"), (b"54", b"1"), (b"38", b"Infinity"),
                (b"40", b"2"), (b"44", b"100.00")], 38),
        (b"D", [(b"11", b"fz-d2"), (b"55", b"AAPL"), (b"54", b"1"), (b"38", b"sNaN"),
                (b"40", b"2"), (b"44", b"100.00")], 38),
        (b"D", [(b"11", b"fz-d3"), (b"55", b"AAPL"), (b"54", b"1"), (b"38", b"1E+999999999"),
                (b"40", b"2"), (b"44", b"100.00")], 38),
    ],
    ids=["F-41-not-utf8", "F-11-surrogate", "H-790-not-utf8", "H-55-not-utf8",
         "q-530-not-utf8", "G-41-not-utf8", "D-38-Infinity", "D-38-sNaN", "D-38-exponent-bomb"],
)  # fmt: skip
def test_a_value_no_reply_can_echo_is_rejected_schema_invalid_naming_its_tag(
    rig: FixRig, msg_type: bytes, body: list[tuple[bytes, bytes]], tag: int
) -> None:
    from interlock.sim.fix_wire import RawSession

    assert wait_until(logged_off(rig, "DESK3"))  # the case before closed its session
    desk = RawSession("127.0.0.1", rig.port, b"DESK3", DESK_KEY.encode())
    try:
        assert desk.logon().msg_type == "A"
        seq = desk.send_pairs(msg_type, body)
        rej = desk.wait_for(lambda r: r.msg_type == "j" and r.get(45) == str(seq), 5.0, "j")
        assert rej.get(371) == str(tag), rej.fields
        assert (rej.get(58) or "").startswith("SCHEMA_INVALID:"), rej.fields
        desk.test_request()  # and the session goes on
        desk.wait_for(lambda r: r.msg_type == "0", 5.0, "heartbeat")
    finally:
        desk.close()
