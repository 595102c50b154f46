"""The order path around the checks: idempotent replays, release only once durable, acks,
cancels, reservations through fills and cancels, venue rejects, and recovery from the journal.
"""

from __future__ import annotations

import contextlib
from decimal import Decimal
from typing import Any

import pytest

from interlock.api.config import load_config
from interlock.control.embedded import EmbeddedControlPlane
from interlock.control.plane import Release
from interlock.domain.commands import OrderRequest, ParentOrder
from interlock.domain.decision import Decision
from interlock.domain.enums import HaltScope, OrderStatus, OrderType, Side, TimeInForce
from interlock.domain.events import OrderDecided
from interlock.domain.order import Order
from interlock.domain.reject import RejectCode, Rejection, render
from interlock.errors import JournalError
from interlock.gateway.gateway import Gateway
from interlock.journal.memory import MemoryJournal
from interlock.sim.harness import DESK_KEY, MM_KEY, START_NS, ManualClock, build

MARKET = OrderType.MARKET
MM = dict(account="mm-1", strategy="mm")


# -- idempotency ---------------------------------------------------------------------------


def test_replay_returns_the_first_decision_even_while_halted() -> None:
    h = build()
    request = h.order(idempotency_key="k-1")
    first = h.gateway.submit(request, DESK_KEY)
    h.journal.flush()
    h.gateway.halt(HaltScope.GLOBAL, "", "stop", "ops")
    last_seq = h.journal.last_seq
    again = h.gateway.submit(request, DESK_KEY)
    assert (again.order_id, again.seq, again.accepted, again.replayed) == (
        first.order_id, first.seq, True, True,
    )  # fmt: skip
    assert h.journal.last_seq == last_seq  # a replay decides nothing and journals nothing
    assert len(h.gateway.book.orders) == 1


def test_replay_of_a_rejection_stays_a_rejection_after_the_cause_is_gone() -> None:
    h = build()
    h.gateway.halt(HaltScope.ACCOUNT, "desk-7", "stop", "ops")
    request = h.order(idempotency_key="k-1")
    first = h.gateway.submit(request, DESK_KEY)
    assert first.code is RejectCode.HALTED
    h.gateway.resume(HaltScope.ACCOUNT, "desk-7", "ops")
    again = h.gateway.submit(request, DESK_KEY)
    assert (again.code, again.message, again.replayed) == (first.code, first.message, True)


def test_idempotency_keys_belong_to_the_principal_that_used_them() -> None:
    h = build()
    assert h.submit(idempotency_key="k-1").accepted
    other = h.submit(MM_KEY, idempotency_key="k-1", quantity=700, **MM)
    assert other.accepted and not other.replayed  # not a conflict: another caller's key


# -- decide, then release once durable -----------------------------------------------------


def test_nothing_reaches_the_venue_before_its_decision_is_durable() -> None:
    h = build()
    resting = h.gateway.submit(h.order(quantity=100), DESK_KEY)
    market = h.gateway.submit(h.order(order_type=MARKET, quantity=200), DESK_KEY)
    assert h.journal.durable_seq < resting.seq < market.seq
    assert h.venue.open_order_ids() == ()
    for d in (resting, market):
        order = h.gateway.order(d.order_id)
        assert (order.status, order.filled) == (OrderStatus.PENDING, 0)
    assert h.gateway.positions() == [("desk-7", "AAPL", 0, 300, 0)]  # reserved, not held
    h.journal.flush()
    assert h.gateway.order(resting.order_id).status is OrderStatus.WORKING
    assert h.venue.open_order_ids() == (resting.order_id,)
    assert h.gateway.order(market.order_id).status is OrderStatus.FILLED
    assert h.gateway.positions() == [("desk-7", "AAPL", 200, 100, 0)]


def test_a_journal_that_cannot_commit_releases_nothing() -> None:
    h = build()
    d = h.gateway.submit(h.order(order_type=MARKET), DESK_KEY)
    assert isinstance(h.journal, MemoryJournal)
    h.journal.fail(OSError("disk full"))
    with pytest.raises(JournalError):
        h.journal.flush()
    assert h.gateway.journal_watch.halted.wait(5)  # the instance halted itself for it,
    assert h.venue.open_order_ids() == () and h.gateway.order(d.order_id).filled == 0
    assert h.gateway.order(d.order_id).status is OrderStatus.CANCELLED  # in place: never sent


def test_on_ack_is_called_only_once_the_decision_is_durable() -> None:
    h = build()
    acks: list[Decision] = []
    accepted = h.gateway.submit(h.order(), DESK_KEY, acks.append)
    refused = h.gateway.submit(h.order(quantity=20_000), DESK_KEY, acks.append)
    assert refused.code is RejectCode.MAX_ORDER_QTY
    assert acks == []
    h.journal.flush()
    assert [(a.order_id, a.code) for a in acks] == [
        (accepted.order_id, None), (None, RejectCode.MAX_ORDER_QTY),
    ]  # fmt: skip


def test_on_ack_for_a_replay_of_a_durable_decision_is_called_without_new_traffic() -> None:
    h = build()
    request = h.order(idempotency_key="k-1")
    h.gateway.submit(request, DESK_KEY)
    h.journal.flush()
    acks: list[Decision] = []
    h.gateway.submit(request, DESK_KEY, acks.append)
    h.journal.flush()  # nothing new to commit
    assert [a.replayed for a in acks] == [True]


def test_on_ack_for_a_replay_of_a_pending_decision_waits_for_the_first_to_be_durable() -> None:
    h = build()
    request = h.order(idempotency_key="k-1")
    h.gateway.submit(request, DESK_KEY)
    acks: list[Decision] = []
    h.gateway.submit(request, DESK_KEY, acks.append)
    assert acks == []
    h.journal.flush()
    assert [(a.order_id, a.replayed) for a in acks] == [(1, True)]


def test_a_raising_ack_callback_does_not_keep_other_orders_from_the_venue() -> None:
    h = build()

    def gone(decision: Decision) -> None:
        raise RuntimeError("client went away")

    first = h.gateway.submit(h.order(quantity=100), DESK_KEY, gone)
    second = h.gateway.submit(h.order(quantity=200), DESK_KEY)
    with contextlib.suppress(RuntimeError):
        h.journal.flush()
    assert h.gateway.order(second.order_id).status is OrderStatus.WORKING
    assert sorted(h.venue.open_order_ids()) == [first.order_id, second.order_id]


# -- cancels -------------------------------------------------------------------------------


def test_cancel_releases_the_reservation_and_the_venue_order() -> None:
    h = build()
    d = h.submit(quantity=300)
    assert h.gateway.cancel(d.order_id, DESK_KEY) is None
    order = h.gateway.order(d.order_id)
    assert (order.status, order.leaves, h.venue.open_order_ids()) == (
        OrderStatus.CANCELLED, 0, (),
    )  # fmt: skip
    assert h.gateway.positions() == []
    again = h.gateway.cancel(d.order_id, DESK_KEY)
    assert again is not None and again.code is RejectCode.ORDER_NOT_OPEN
    assert again.message == "ORDER_NOT_OPEN: order 1 is not open: it is cancelled"


def test_cancel_of_a_pending_order_keeps_it_from_the_venue() -> None:
    h = build()
    d = h.gateway.submit(h.order(order_type=MARKET), DESK_KEY)
    assert h.gateway.cancel(d.order_id, DESK_KEY) is None
    h.journal.flush()
    order = h.gateway.order(d.order_id)
    assert (order.status, order.filled, h.venue.cancel_rejects) == (OrderStatus.CANCELLED, 0, 0)
    assert h.gateway.positions() == []


def test_cancels_pass_while_halted_or_fenced() -> None:
    clock = ManualClock(START_NS)
    h = build(clock=clock)
    first, second = h.submit(quantity=100), h.submit(quantity=200)
    h.gateway.halt(HaltScope.STRATEGY, "pairs", "stop", "ops")  # desk-7 partly halted
    h.gateway.halt(HaltScope.SYMBOL, "MSFT", "stop", "ops")
    assert h.gateway.cancel(first.order_id, DESK_KEY) is None
    h.plane.set_release(Release("", "", 2))  # fenced by the epoch
    clock.advance_ms(5_000)  # and the lease is gone
    assert h.submit(quantity=300).code is RejectCode.CONTROL_PLANE_LOST
    assert h.gateway.cancel(second.order_id, DESK_KEY) is None
    assert h.venue.open_order_ids() == () and h.gateway.positions() == []


def test_cancel_of_another_accounts_order_is_ORDER_NOT_FOUND_as_an_unknown_id_is() -> None:
    """A caller must not learn that another account's order id exists: the answer for it
    is the answer for an id nobody has, word for word (but the id)."""
    h = build()
    d = h.submit()
    theirs = h.gateway.cancel(d.order_id, MM_KEY)
    nobodys = h.gateway.cancel(999, MM_KEY)
    assert theirs is not None and nobodys is not None
    assert (theirs.code, nobodys.code) == (RejectCode.ORDER_NOT_FOUND,) * 2
    assert theirs.message == "ORDER_NOT_FOUND: no order 1 among the caller's accounts"
    assert nobodys.message == theirs.message.replace(" 1 ", " 999 ")
    assert (render(theirs.limit), render(theirs.attempted)) == (
        render(nobodys.limit), render(nobodys.attempted).replace("999", "1"),
    )  # fmt: skip
    assert h.gateway.order(d.order_id).status is OrderStatus.WORKING
    assert h.venue.leaves(d.order_id) == 100


def test_cancel_with_an_unknown_key_is_UNAUTHENTICATED_and_cancels_nothing() -> None:
    h = build()
    d = h.submit()
    r = h.gateway.cancel(d.order_id, "not-a-key")
    assert r is not None and r.code is RejectCode.UNAUTHENTICATED
    assert r.message.startswith("UNAUTHENTICATED: API key not recognised")
    assert h.gateway.order(d.order_id).status is OrderStatus.WORKING


# -- reservations through fills, partial fills and venue rejects ---------------------------


def test_positions_and_reservations_follow_fills_and_cancels() -> None:
    h = build()
    resting = h.submit(quantity=300)
    assert h.submit(order_type=MARKET, quantity=200).accepted  # fills at 100.01
    assert h.gateway.add_locate("L1", "desk-7", "MSFT", 100, START_NS + 10**12, "pb", "ops") is None
    assert h.submit(symbol="MSFT", side=Side.SELL_SHORT, quantity=100).accepted  # rests
    assert h.gateway.positions() == [
        ("desk-7", "AAPL", 200, 300, 0), ("desk-7", "MSFT", 0, 0, 100),
    ]  # fmt: skip
    acct = h.gateway.book.account("desk-7")
    assert acct.executed == 200 * 10_001 * 10_000  # micros
    assert acct.open_notional == (300 + 100) * 10_000 * 10_000
    h.gateway.cancel(resting.order_id, DESK_KEY)
    assert h.gateway.positions() == [
        ("desk-7", "AAPL", 200, 0, 0), ("desk-7", "MSFT", 0, 0, 100),
    ]  # fmt: skip
    assert acct.open_notional == 100 * 10_000 * 10_000
    h.market.set_mid("MSFT", 10_002)  # the bid moves up through the resting sell
    sold = h.gateway.order(3).filled
    assert sold > 0 and h.venue.leaves(3) == 100 - sold
    assert h.gateway.positions()[1] == ("desk-7", "MSFT", -sold, 0, 100 - sold)


def test_partial_fill_leaves_the_rest_reserved_until_the_rest_fills() -> None:
    h = build(depth=100)  # at most 100 shown at the touch
    d = h.submit(quantity=300, limit_price=Decimal("100.01"))
    order = h.gateway.order(d.order_id)
    assert 0 < order.filled <= 100 and order.leaves == 300 - order.filled
    assert order.status is OrderStatus.WORKING and h.venue.leaves(d.order_id) == order.leaves
    assert h.gateway.positions() == [("desk-7", "AAPL", order.filled, order.leaves, 0)]
    for mid in range(9_999, 9_990, -1):  # the ask falls through the resting limit
        h.market.set_mid("AAPL", mid)
    assert (order.status, order.filled, order.leaves) == (OrderStatus.FILLED, 300, 0)
    assert h.gateway.positions() == [("desk-7", "AAPL", 300, 0, 0)]


def test_late_fill_after_a_cancel_still_counts_against_the_parent() -> None:
    h = build()
    assert h.gateway.declare_parent(ParentOrder("P1", "desk-7", "AAPL", Side.BUY, 1_000),
                                    DESK_KEY) is None  # fmt: skip
    child = h.submit(parent_id="P1", quantity=400)
    h.gateway.cancel(child.order_id, DESK_KEY)
    h.gateway.on_fill(child.order_id, 100, 10_000, "late-1")  # filled before the cancel landed
    parent = h.gateway.book.parents["P1"]
    assert (parent.open, parent.filled) == (0, 100)
    assert h.submit(parent_id="P1", quantity=1_000).code is RejectCode.PARENT_OVERFILL


def test_declaring_a_known_parent_id_on_other_terms_is_PARENT_CONFLICT() -> None:
    h = build()
    mine = ParentOrder("P1", "desk-7", "AAPL", Side.BUY, 100)
    assert h.gateway.declare_parent(mine, DESK_KEY) is None
    assert h.gateway.declare_parent(mine, DESK_KEY) is None  # the same terms again: fine
    bigger = ParentOrder("P1", "desk-7", "AAPL", Side.BUY, 500)
    squatter = ParentOrder("P2", "mm-1", "AAPL", Side.BUY, 100)
    assert h.gateway.declare_parent(squatter, MM_KEY) is None
    r = h.gateway.declare_parent(bigger, DESK_KEY)
    assert r is not None and r.code is RejectCode.PARENT_CONFLICT
    assert r.message == "PARENT_CONFLICT: parent P1 is already declared as desk-7 buy 100 AAPL"
    theirs = ParentOrder("P2", "desk-7", "AAPL", Side.BUY, 500)
    r = h.gateway.declare_parent(theirs, DESK_KEY)  # mm-1's terms are not desk-7's to read
    assert r is not None and r.code is RejectCode.PARENT_CONFLICT
    assert r.message == "PARENT_CONFLICT: parent P2 is already declared by another account"
    assert h.gateway.book.parents["P1"].parent == mine


def test_declaring_a_parent_for_another_account_is_NOT_ACCOUNT_OWNER() -> None:
    h = build()
    r = h.gateway.declare_parent(ParentOrder("P9", "mm-1", "AAPL", Side.BUY, 100), DESK_KEY)
    assert r is not None and r.code is RejectCode.NOT_ACCOUNT_OWNER
    assert r.message.startswith("NOT_ACCOUNT_OWNER: principal ")
    assert "P9" not in h.gateway.book.parents


def test_mass_cancel_of_another_account_is_NOT_ACCOUNT_OWNER_and_cancels_nothing() -> None:
    h = build()
    d = h.submit()
    r = h.gateway.mass_cancel(MM_KEY, account="desk-7")
    assert isinstance(r, Rejection) and r.code is RejectCode.NOT_ACCOUNT_OWNER
    assert h.gateway.order(d.order_id).status is OrderStatus.WORKING
    r = h.gateway.mass_cancel("not-a-key")
    assert isinstance(r, Rejection) and r.code is RejectCode.UNAUTHENTICATED


@pytest.mark.parametrize("tif", [TimeInForce.IOC, TimeInForce.FOK])
def test_unfilled_ioc_and_fok_orders_are_cancelled_and_release_their_reservation(
    tif: TimeInForce,
) -> None:
    h = build()
    d = h.submit(quantity=300, time_in_force=tif)  # at the mid: nothing to take
    order = h.gateway.order(d.order_id)
    assert (order.status, order.filled, order.leaves) == (OrderStatus.CANCELLED, 0, 0)
    assert h.gateway.positions() == [] and h.venue.open_order_ids() == ()


class RejectingVenue:
    """A venue that refuses every order it is sent (a closed book, say)."""

    def __init__(self) -> None:
        self.gateway: Gateway | None = None
        self.sent: list[int] = []

    def send(self, order: Order) -> None:
        self.sent.append(order.order_id)
        assert self.gateway is not None
        self.gateway.on_rejected(order.order_id, "venue closed")

    def cancel(self, order_id: int) -> None:
        pass


def test_venue_reject_releases_the_reservation() -> None:
    clock, venue, journal = ManualClock(START_NS), RejectingVenue(), MemoryJournal()
    gw = Gateway(load_config(), journal, venue, EmbeddedControlPlane(clock=clock), clock=clock)
    venue.gateway = gw.start()
    gw.update_reference("AAPL", 10_000)
    request = OrderRequest("c1", "desk-7", "vwap", "AAPL", Side.BUY, 5_000,
                           limit_price=Decimal("100.00"))  # fmt: skip
    d = gw.submit(request, DESK_KEY)
    assert d.accepted and gw.positions() == [("desk-7", "AAPL", 0, 5_000, 0)]
    journal.flush()
    assert venue.sent == [d.order_id]
    assert gw.order(d.order_id).status is OrderStatus.VENUE_REJECTED
    assert gw.positions() == [] and gw.book.account("desk-7").open_notional == 0


# -- recovery ------------------------------------------------------------------------------


def book_state(gw: Gateway) -> dict[str, Any]:
    book = gw.book
    return {
        "positions": gw.positions(),
        "orders": {i: (o.status, o.qty, o.leaves, o.filled) for i, o in book.orders.items()},
        "open": sorted(book.open_orders),
        "parents": {p: (s.open, s.filled) for p, s in book.parents.items()},
        "accounts": {
            n: (a.open_notional, a.executed, a.gross, a.pnl)
            for n, a in book.accounts.items()
            if a.positions
        },
        "firm": (book.firm.gross, book.firm.open_notional),
        "halts": sorted((x.scope, x.target, x.reason, x.who) for x in gw.halts.records()),
        "locates": [(x.locate_id, x.used, x.reserved) for x in gw.locates()],
    }


def test_a_new_gateway_on_the_same_journal_rebuilds_the_same_book() -> None:
    h = build(depth=100)
    gw = h.gateway
    assert gw.declare_parent(ParentOrder("P1", "desk-7", "AAPL", Side.BUY, 1_000), DESK_KEY) is None
    assert h.submit(parent_id="P1", order_type=MARKET, quantity=150).accepted  # fills
    partial = h.submit(parent_id="P1", quantity=300, limit_price=Decimal("100.01"))
    assert 0 < gw.order(partial.order_id).filled < 300  # partly filled, rest working
    assert gw.add_locate("L1", "desk-7", "MSFT", 300, START_NS + 10**12, "pb", "ops") is None
    assert gw.add_locate("L2", "mm-1", "AAPL", 500, START_NS + 10**12, "pb", "ops") is None
    cancelled = h.submit(symbol="MSFT", side=Side.SELL_SHORT, quantity=200)
    gw.cancel(cancelled.order_id, DESK_KEY)
    assert h.submit(symbol="GOOG", quantity=100).accepted  # working
    assert h.submit(MM_KEY, side=Side.SELL_SHORT, quantity=500, limit_price=Decimal("100.02"),
                    **MM).accepted  # fmt: skip
    keyed = h.order(symbol="MSFT", quantity=100, limit_price=Decimal("99.99"),
                    idempotency_key="k-1")  # fmt: skip
    refused = h.order(quantity=20_000, idempotency_key="k-2")
    first_keyed, first_refused = gw.submit(keyed, DESK_KEY), gw.submit(refused, DESK_KEY)
    gw.halt(HaltScope.STRATEGY, "pairs", "review", "ops")
    gw.resume(HaltScope.STRATEGY, "pairs", "ops")
    gw.halt(HaltScope.SYMBOL, "TSLA", "news pending", "ops")
    h.journal.flush()
    before = book_state(gw)
    assert before["open"] and before["parents"]["P1"][0] > 0  # something to rebuild

    h2 = build(journal=h.journal, depth=100, restart_of=h)  # a restart: new plane and process
    # state, the same venue (it holds the open orders: reconciliation finds them working)
    assert book_state(h2.gateway) == before
    assert [(x.scope, x.target) for x in h2.plane.halts()] == [(HaltScope.SYMBOL, "TSLA")]
    assert h2.submit(symbol="TSLA").code is RejectCode.HALTED
    for request, first in ((keyed, first_keyed), (refused, first_refused)):
        again = h2.gateway.submit(request, DESK_KEY)
        assert (again.order_id, again.code, again.replayed) == (first.order_id, first.code, True)
    dup = h2.submit(symbol="GOOG", quantity=100)  # the duplicate window survived too
    assert dup.code is RejectCode.DUPLICATE_ORDER
    assert h2.submit(symbol="GOOG", quantity=101).order_id == max(gw.book.orders) + 1


def test_recovery_rebuilds_orders_whose_enums_arrived_as_strings() -> None:
    h = build()
    assert h.submit(side="buy", order_type="market", quantity=100).accepted
    assert h.submit(side="sell", time_in_force="gtc", session="continuous", quantity=50).accepted
    h.journal.flush()  # the fill is journaled after the order's record: make it durable
    before = book_state(h.gateway)
    h2 = build(journal=h.journal, restart_of=h)
    assert book_state(h2.gateway) == before


def test_a_fill_resent_by_the_venue_with_the_same_exec_id_counts_once_even_after_a_restart() -> (
    None
):
    h = build()
    d = h.submit(quantity=100, limit_price=Decimal("99.00"))  # rests
    h.gateway.on_fill(d.order_id, 40, 9_900, "EX-1")
    h.gateway.on_fill(d.order_id, 40, 9_900, "EX-1")  # the venue resends after a reconnect
    assert h.gateway.book.accounts["desk-7"].positions["AAPL"].pos == 40
    h.journal.flush()
    h2 = build(journal=h.journal)
    h2.gateway.on_fill(d.order_id, 40, 9_900, "EX-1")
    assert h2.gateway.book.accounts["desk-7"].positions["AAPL"].pos == 40


def test_typed_reject_values_are_journaled_as_text_and_replay_the_same_after_a_restart() -> None:
    """The check keeps ints; the journal holds their rendered text (its format unchanged);
    the decision replayed from that journal renders exactly as the live one did."""
    h = build()
    request = h.order(quantity=20_000, idempotency_key="k-typed")
    live = h.gateway.submit(request, DESK_KEY)
    assert live.rejection is not None and live.code is RejectCode.MAX_ORDER_QTY
    assert (live.rejection.limit, live.rejection.attempted) == (10_000, 20_000)  # typed
    h.journal.flush()
    (record,) = [e for _, e in h.journal.read() if isinstance(e, OrderDecided) and e.code]
    assert (record.limit, record.attempted) == ("10000", "20000")
    h2 = build(journal=h.journal)
    again = h2.gateway.submit(request, DESK_KEY)
    assert again.replayed and again.rejection is not None
    shown = (render(again.rejection.limit), render(again.rejection.attempted), again.message)
    assert shown == (render(10_000), render(20_000), live.message)
