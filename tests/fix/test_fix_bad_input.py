"""Control characters in a FIX order's ids never reach the gateway: over a real QuickFIX
session on 127.0.0.1 the acceptor answers a BusinessMessageReject naming the tag."""

from __future__ import annotations

import pytest
from fix_rig import FixRig


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
