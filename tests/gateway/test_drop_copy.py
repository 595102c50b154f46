"""Drop-copy reconciliation (gateway/drop_copy.py) against a real gateway: what is a break,
what it halts, that copies count once, that an order in flight is not foreign, and that a
restart keeps the halt, the break and its de-duplication. The FIX session itself is
tests/fix/test_drop_copy_fix.py."""

from __future__ import annotations

import logging
import threading
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from interlock.control.embedded import EmbeddedControlPlane
from interlock.domain.enums import HaltScope, OrderStatus
from interlock.domain.events import DropCopyBreak
from interlock.domain.order import Order
from interlock.domain.reject import RejectCode
from interlock.gateway.drop_copy import DropCopyWatch
from interlock.instance import build_instance
from interlock.journal.sqlite import SqliteJournal
from interlock.render_text import EventSummarizer
from interlock.sim.harness import DESK_KEY, MM_KEY, Harness, build
from interlock.venue.drop_copy_report import DropCopyReport, decode_report
from interlock.venue.simulated import SimulatedVenue


def report(**over: Any) -> DropCopyReport:
    base: dict[str, Any] = dict(exec_id="E1", exec_type="F", cl_ord_id="1", orig_cl_ord_id="",
                                venue_order_id="V1", account="desk-7", symbol="AAPL", side="1",
                                order_qty=100, last_qty=50, cum_qty=50, poss_dup=False)  # fmt: skip
    base.update(over)
    return DropCopyReport(**base)


def watched(h: Harness) -> DropCopyWatch:
    watch = DropCopyWatch(h.gateway, "INTERLOCK-DC->VENUE-DC")
    h.gateway.drop_copy = watch
    watch.on_status(True)
    return watch


def ours(h: Harness, **over: Any) -> Order:
    d = h.submit(**over)
    assert d.accepted
    order = h.gateway.order(d.order_id)
    assert order is not None
    return order


def halted(h: Harness, scope: HaltScope, target: str) -> bool:
    return h.gateway.halts.get(scope, target) is not None


def test_reports_of_released_orders_are_no_break() -> None:
    h = build()
    w = watched(h)
    o = ours(h)
    cl = str(o.order_id)
    assert w.on_report(report(cl_ord_id=cl, exec_type="0", exec_id="A0", last_qty=0)) is None
    assert w.on_report(report(cl_ord_id=cl, exec_id="A1", last_qty=50, cum_qty=50)) is None
    assert w.on_report(report(cl_ord_id=cl, exec_id="A2", last_qty=50, cum_qty=100)) is None
    assert w.view().break_count == 0 and w.matched == 3
    assert not h.gateway.halts.any


def test_a_cancel_report_names_the_order_in_OrigClOrdID() -> None:
    h = build()
    w = watched(h)
    o = ours(h)
    r = report(cl_ord_id=f"{o.order_id}-c1", orig_cl_ord_id=str(o.order_id), exec_type="4",
               exec_id="C1", last_qty=0, cum_qty=0)  # fmt: skip
    assert w.on_report(r) is None


def test_foreign_execution_halts_its_account_journals_alerts_and_counts(
    caplog: pytest.LogCaptureFixture,
) -> None:
    h = build()
    w = watched(h)
    ours(h, account="mm-1", strategy="mm", symbol="GOOG", key=MM_KEY)
    with caplog.at_level(logging.ERROR):
        v = w.on_report(report(cl_ord_id="ROGUE-77", exec_id="R1"))
    assert v is not None and (v.kind, v.scope, v.target) == ("foreign", HaltScope.ACCOUNT, "desk-7")
    halt = h.gateway.halts.get(HaltScope.ACCOUNT, "desk-7")
    assert halt is not None and "R1" in halt.reason and "drop copy" in halt.reason
    assert halt.who == "drop-copy"
    assert not halted(h, HaltScope.ACCOUNT, "mm-1")  # the narrowest scope: its account only
    assert h.submit().rejection.code is RejectCode.HALTED  # type: ignore[union-attr]
    assert h.submit(MM_KEY, account="mm-1", strategy="mm", symbol="GOOG", quantity=7).accepted
    fired = [r for r in caplog.records if getattr(r, "alert", "") == "drop_copy_break"]
    assert fired and fired[0].event == "alert.fired"  # type: ignore[attr-defined]
    h.journal.flush()
    found = [e for _, e in h.journal.read() if isinstance(e, DropCopyBreak)]
    assert [(b.kind, b.exec_id, b.account) for b in found] == [("foreign", "R1", "desk-7")]
    assert "DROP COPY BREAK foreign exec R1" in EventSummarizer()(found[0])
    assert w.view().break_count == 1


@pytest.mark.parametrize("cl", ["5x", "+1", "1-rogue", "1-c", "-1", "١"])
def test_a_clordid_interlock_could_not_have_sent_is_foreign(cl: str) -> None:
    h = build()
    w = watched(h)
    ours(h)  # order 1 exists: none of these may be taken for it
    v = w.on_report(report(cl_ord_id=cl, exec_id=f"X{cl}"))
    assert v is not None and v.kind == "foreign"


@pytest.mark.parametrize(("account", "why"), [("", "no account"), ("nobody", "unknown account")])
def test_an_execution_no_account_of_ours_explains_halts_the_instance(
    account: str, why: str
) -> None:
    h = build()
    w = watched(h)
    v = w.on_report(report(cl_ord_id="999", account=account, exec_id="R9"))
    assert v is not None and (v.scope, v.target) == (HaltScope.INSTANCE, "gw-1")
    assert why in v.detail
    assert halted(h, HaltScope.INSTANCE, "gw-1")
    assert h.submit(MM_KEY, account="mm-1", strategy="mm").rejection.code is RejectCode.HALTED  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("over", "says"),
    [
        (dict(symbol="MSFT"), "symbol 'MSFT'"),
        (dict(side="2"), "side '2'"),
        (dict(account="mm-1"), "account 'mm-1'"),
    ],
)
def test_a_report_of_our_order_with_other_terms_is_a_mismatch(
    over: dict[str, str], says: str
) -> None:
    h = build()
    w = watched(h)
    o = ours(h)
    v = w.on_report(report(cl_ord_id=str(o.order_id), exec_id="M1", **over))
    assert v is not None and v.kind == "mismatch" and says in v.detail
    assert (v.scope, v.target) == (HaltScope.ACCOUNT, "desk-7")
    assert halted(h, HaltScope.ACCOUNT, "desk-7")


def test_fills_beyond_the_order_quantity_are_an_overfill() -> None:
    h = build()
    w = watched(h)
    o = ours(h)  # 100 shares
    cl = str(o.order_id)
    assert w.on_report(report(cl_ord_id=cl, exec_id="F1", last_qty=60, cum_qty=None)) is None
    assert w.on_report(report(cl_ord_id=cl, exec_id="F2", last_qty=40, cum_qty=None)) is None
    v = w.on_report(report(cl_ord_id=cl, exec_id="F3", last_qty=1, cum_qty=None))
    assert v is not None and v.kind == "overfill" and "101 shares" in v.detail


def test_cumqty_over_the_order_quantity_is_an_overfill_at_once() -> None:
    h = build()
    w = watched(h)
    o = ours(h)
    v = w.on_report(report(cl_ord_id=str(o.order_id), exec_id="F1", last_qty=1, cum_qty=101))
    assert v is not None and v.kind == "overfill"


def test_the_venue_order_id_ties_a_report_without_clordid_to_our_order() -> None:
    h = build()
    w = watched(h)
    o = ours(h)
    assert w.on_report(report(cl_ord_id=str(o.order_id), exec_id="F1", venue_order_id="V9")) is None
    assert w.on_report(report(cl_ord_id="", exec_id="F2", venue_order_id="V9")) is None
    v = w.on_report(report(cl_ord_id="", exec_id="F3", venue_order_id="V10"))
    assert v is not None and v.kind == "foreign"


def test_a_possdup_copy_or_an_exec_id_seen_before_counts_once() -> None:
    h = build()
    w = watched(h)
    rogue = report(cl_ord_id="R", exec_id="R1")
    assert w.on_report(rogue) is not None
    assert w.on_report(replace(rogue, poss_dup=True)) is None
    assert w.on_report(rogue) is None
    assert w.view().break_count == 1 and w.duplicates == 2
    o = ours(h, account="mm-1", strategy="mm", key=MM_KEY)
    fill = report(cl_ord_id=str(o.order_id), account="mm-1", exec_id="F1", last_qty=100,
                  cum_qty=None)  # fmt: skip
    assert w.on_report(fill) is None
    assert w.on_report(replace(fill, poss_dup=True)) is None  # not counted twice: no overfill
    assert w.matched == 1 and w.duplicates == 3


def test_an_execution_for_an_order_still_pending_is_a_break() -> None:
    h = build()
    w = watched(h)
    d = h.gateway.submit(h.order(), DESK_KEY)  # decided, not yet durable: never sent
    assert h.gateway.order(d.order_id).status is OrderStatus.PENDING  # type: ignore[union-attr]
    v = w.on_report(report(cl_ord_id=str(d.order_id), exec_id="P1"))
    assert v is not None and v.kind == "unreleased"


class CopyingVenue(SimulatedVenue):
    """A venue whose drop copy reports each order while `send` still runs: the copy arrives
    before the order is routed (RELEASING), before the order-entry session's own report."""

    watch: DropCopyWatch | None = None
    seen: list[tuple[OrderStatus, object]]

    def send(self, order: Order) -> None:
        assert self.watch is not None
        status = order.status
        verdicts = []
        for n in range(2):  # on this thread and on another, as the FIX session's would be
            r = report(cl_ord_id=str(order.order_id), exec_type="0", exec_id=f"N{order.order_id}"
                       f"-{n}", last_qty=0, cum_qty=0, side="1")  # fmt: skip
            if n == 0:
                verdicts.append(self.watch.on_report(r))
            else:
                t = threading.Thread(target=lambda r=r: verdicts.append(self.watch.on_report(r)))  # type: ignore[union-attr]
                t.start()
                t.join()
        self.seen.append((status, tuple(verdicts)))
        super().send(order)


def test_a_drop_copy_of_an_order_whose_release_is_in_flight_is_no_break() -> None:
    h = build(start=False)
    venue = CopyingVenue(h.market, seed=7)
    venue.seen = []
    plane = EmbeddedControlPlane(clock=h.clock)
    gw = build_instance(h.gateway.config, journal=h.journal, venue=venue, plane=plane,
                        clock=h.clock, start=False)  # fmt: skip
    h.market.subscribe(lambda symbol, m: gw.update_reference(symbol, m))
    gw.start()
    h2 = Harness(gw, h.journal, venue, h.market, plane, h.clock)
    h2.refresh_references()
    venue.watch = watched(h2)
    for n in range(3):
        assert h2.submit(quantity=100 + n).accepted
    assert [s for s, _ in venue.seen] == [OrderStatus.RELEASING] * 3
    assert all(v == (None, None) for _, v in venue.seen)
    assert venue.watch.view().break_count == 0 and not gw.halts.any


class FakeSession:
    name = "FAKE-DC->VENUE"

    def __init__(self) -> None:
        self.attached: tuple[Any, Any] | None = None

    def attach(self, on_report: Any, on_status: Any, on_tick: Any = None) -> None:
        self.attached = (on_report, on_status)
        self.on_tick = on_tick


def test_build_instance_wires_a_venues_drop_copy_to_the_matcher() -> None:
    h = build(start=False)
    venue = SimulatedVenue(h.market, seed=7)
    session = FakeSession()
    venue.drop_copy = session  # type: ignore[attr-defined]
    gw = build_instance(h.gateway.config, journal=h.journal, venue=venue,
                        plane=EmbeddedControlPlane(clock=h.clock), clock=h.clock)  # fmt: skip
    assert gw.drop_copy is not None and session.attached is not None
    assert session.on_tick == gw.drop_copy.tick  # overdue confirmations are looked for
    on_report, on_status = session.attached
    on_status(True)
    on_report(report(cl_ord_id="R", exec_id="R1"))
    assert gw.halts.get(HaltScope.ACCOUNT, "desk-7") is not None
    gw.close()


def test_down_is_alerted_and_shown(caplog: pytest.LogCaptureFixture) -> None:
    h = build()
    w = watched(h)
    with caplog.at_level(logging.ERROR):
        w.on_status(False)
        w.on_status(False)  # still down: one alert
    assert w.view().state == "down"
    fired = [r for r in caplog.records if getattr(r, "alert", "") == "drop_copy_down"]
    assert len(fired) == 1
    w.on_status(True)
    assert w.view().state == "up"
    assert not h.gateway.halts.any  # blind is alerted, not halted (docs/drop-copy.md)


def test_a_restart_keeps_the_halt_the_break_and_its_dedup(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    h = build(journal=SqliteJournal(path))
    w = watched(h)
    rogue = report(cl_ord_id="R", exec_id="R1")
    assert w.on_report(rogue) is not None
    h.journal.flush()
    h.gateway.close()
    again = build(journal=SqliteJournal(path), restart_of=h)  # a new plane: the journal holds it
    assert again.gateway.halts.get(HaltScope.ACCOUNT, "desk-7") is not None
    assert again.submit().rejection.code is RejectCode.HALTED  # type: ignore[union-attr]
    w2 = watched(again)
    assert [b.exec_id for b in w2.view().recent] == ["R1"]
    assert w2.on_report(replace(rogue, poss_dup=True)) is None  # resent after reconnect
    assert w2.view().break_count == 1 and w2.duplicates == 1
    again.gateway.close()


def test_decode_report_reads_the_fields_and_possdup() -> None:
    r = decode_report({17: "E1", 150: "F", 11: "7", 37: "V", 1: "desk-7", 55: "AAPL", 54: "1",
                       38: "100", 32: "40", 14: "40", 43: "Y"})  # fmt: skip
    assert (r.exec_id, r.order_qty, r.last_qty, r.cum_qty, r.poss_dup) == ("E1", 100, 40, 40, True)
    bad = decode_report({150: "F", 32: "1.5", 14: "x", 97: "Y"})
    assert (bad.last_qty, bad.cum_qty, bad.poss_dup, bad.exec_id) == (0, None, True, "")
    assert bad.dedup_key() != decode_report({150: "F", 11: "8"}).dedup_key()


def test_the_console_panel_escapes_what_a_rogue_report_says() -> None:
    import interlock.api.admin  # noqa: F401  (the package first, as serve imports it: no cycle)
    from interlock.api.dashboard.drop_copy import drop_copy_panel, drop_copy_snapshot

    h = build()
    assert drop_copy_panel(drop_copy_snapshot(h.gateway)) == ""  # none configured: no panel
    w = watched(h)
    w.on_report(report(cl_ord_id="<b>x</b>", exec_id="<script>1</script>", symbol="<i>"))
    html = drop_copy_panel(drop_copy_snapshot(h.gateway))
    assert "<script>" not in html and "&lt;script&gt;1&lt;/script&gt;" in html
    assert "1 break(s)" in html and 'class="ok"' in html


def test_a_rogue_flood_writes_one_halt_and_journals_every_break() -> None:
    from interlock.domain.events import HaltApplied

    h = build()
    w = watched(h)
    for n in range(2_000):
        w.on_report(report(cl_ord_id=f"ROGUE-{n}", exec_id=f"R{n}"))
    h.journal.flush()
    events = [e for _, e in h.journal.read()]
    assert sum(isinstance(e, HaltApplied) for e in events) == 1
    assert sum(isinstance(e, DropCopyBreak) for e in events) == 2_000
    view = w.view()
    assert view.break_count == 2_000 and view.by_kind["foreign"] == 2_000
    assert len(view.recent) == 20 and view.recent[-1].exec_id == "R1999"


def confirming(h: Harness) -> DropCopyWatch:
    watch = DropCopyWatch(h.gateway, "DC", confirm_within_ms=5_000)
    h.gateway.drop_copy = watch
    return watch


def test_a_fill_the_order_entry_session_also_delivers_in_time_is_no_break() -> None:
    h = build()
    w = confirming(h)
    o = ours(h, quantity=1_000, limit_price=Decimal("99.50"))  # rests: no simulated fill
    w.on_report(report(cl_ord_id=str(o.order_id), exec_id="X1", last_qty=10, cum_qty=10))
    h.clock.advance_ms(4_000)  # type: ignore[attr-defined]
    assert w.tick() == []
    assert h.gateway.on_fill(o.order_id, 10, 9_950, "X1")  # the order-entry report, late
    h.clock.advance_ms(2_000)  # type: ignore[attr-defined]
    assert w.tick() == [] and w.view().break_count == 0


def test_a_fill_only_the_drop_copy_knows_of_is_unconfirmed_after_the_bound() -> None:
    h = build()
    w = confirming(h)
    o = ours(h, quantity=1_000, limit_price=Decimal("99.50"))
    w.on_report(report(cl_ord_id=str(o.order_id), exec_id="X2", last_qty=10, cum_qty=10))
    h.clock.advance_ms(4_999)  # type: ignore[attr-defined]
    assert w.tick() == []
    h.clock.advance_ms(1)  # type: ignore[attr-defined]
    [v] = w.tick()
    assert (v.kind, v.scope, v.target) == ("unconfirmed", HaltScope.ACCOUNT, "desk-7")
    assert "5,000 ms" in v.detail and halted(h, HaltScope.ACCOUNT, "desk-7")
    assert w.tick() == []  # broken once
    assert w.view().by_kind["unconfirmed"] == 1


def test_without_a_bound_a_fill_is_not_waited_for() -> None:
    h = build()
    w = watched(h)  # confirm_within_ms None
    o = ours(h, quantity=1_000, limit_price=Decimal("99.50"))
    w.on_report(report(cl_ord_id=str(o.order_id), exec_id="X3", last_qty=10, cum_qty=10))
    h.clock.advance_ms(60_000)  # type: ignore[attr-defined]
    assert w.tick() == []
