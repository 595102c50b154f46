"""A second D with a ClOrdID the session already used never hides the original order:
it is answered (rejected), and the original stays cancellable, queryable and covered by
cancel-on-disconnect."""

from __future__ import annotations

import itertools

import pytest
from fix_rig import FixRig, wait_until

from interlock.domain.enums import OrderStatus
from interlock.fixengine.engine import new_message
from interlock.sim.fix import FixClient
from interlock.sim.harness import DESK_KEY


def er(cl: str, exec_type: str) -> object:
    return lambda m: m[35] == "8" and m.get(11) == cl and m.get(150) == exec_type


# a duplicate the gateway answers with a conflict, and one it rejects before any key check
DUPLICATES = [
    pytest.param({"price": "99.02", "qty": 13}, "IDEMPOTENCY_CONFLICT", id="other-payload"),
    pytest.param({"symbol": "ZZZZ"}, "UNKNOWN_SYMBOL", id="undecodable-values"),
]


_qty = itertools.count(21)  # every original its own quantity: none is a DUPLICATE_ORDER


def _live_then_duplicate(desk: FixClient, cl: str, dup: dict[str, object], code: str) -> int:
    """A working original, then `dup` under its ClOrdID, answered as rejected with `code`."""
    desk.new_order(cl, price="99.01", qty=next(_qty))
    order_id = int(desk.expect(er(cl, "0"))[37])
    desk.new_order(cl, **dup)  # type: ignore[arg-type]
    rej = desk.expect(er(cl, "8"))
    assert rej[39] == "8" and rej[58].startswith(f"{code}: ") and rej[37] == "NONE"
    return order_id


@pytest.mark.parametrize(("dup", "code"), DUPLICATES)
def test_duplicate_clordid_keeps_the_original_cancellable(
    rig: FixRig, dup: dict[str, object], code: str
) -> None:
    desk = rig.clients["DESK2"]
    cl = f"dupc-{code}"
    order_id = _live_then_duplicate(desk, cl, dup, code)
    desk.cancel(f"{cl}-x", cl)
    done = desk.expect(er(f"{cl}-x", "4"))
    assert done[37] == str(order_id) and done[41] == cl
    assert rig.harness.gateway.order(order_id).status is OrderStatus.CANCELLED  # type: ignore[union-attr]


@pytest.mark.parametrize(("dup", "code"), DUPLICATES)
def test_duplicate_clordid_leaves_the_original_reported_working(
    rig: FixRig, dup: dict[str, object], code: str
) -> None:
    desk = rig.clients["DESK2"]
    cl = f"dups-{code}"
    order_id = _live_then_duplicate(desk, cl, dup, code)
    msg = new_message("H")
    msg.setField(11, cl)
    desk.send(msg)
    status = desk.expect(er(cl, "I"))
    order = rig.harness.gateway.order(order_id)
    assert order is not None and order.status is OrderStatus.WORKING
    assert status[39] == "0" and status[37] == str(order_id) and status[151] == str(order.qty)


def test_duplicate_clordid_leaves_the_original_to_cancel_on_disconnect(rig: FixRig) -> None:
    name = "dup-cod"
    desk = FixClient(rig.root / name, rig.port, "DESK3", "desk-7-algo", DESK_KEY, qualifier=name)
    rig.retired.append(desk)  # kept alive: QuickFIX still holds the session
    assert desk.start()
    order_id = _live_then_duplicate(desk, "dupd-1", {"price": "99.03", "qty": 14},
                                    "IDEMPOTENCY_CONFLICT")  # fmt: skip
    order = rig.harness.gateway.order(order_id)
    assert order is not None and order.status is OrderStatus.WORKING
    desk.stop()
    assert wait_until(lambda: order.status is OrderStatus.CANCELLED)
