"""Confirmed halts: every instance acknowledges each halt it applies, and the operator is told
"8/8 halted in N ms", or exactly who did not confirm within the bound."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import Any

from fleet_kit import fleet, submit

from interlock.control.fleet_halt import halt_fleet
from interlock.control.plane import Attestation, ControlEvent, HaltPut, HaltRecord
from interlock.domain.enums import HaltScope, OrderStatus
from interlock.domain.reject import RejectCode


def test_a_global_halt_is_confirmed_by_all_eight_and_stops_every_instance() -> None:
    f, _ = fleet()
    report = f.halt(HaltScope.GLOBAL, "", "runaway", "ops")
    assert report.confirmed == tuple(sorted(f.ids)) and report.missing == report.lost == ()
    assert report.complete and re.fullmatch(r"8/8 halted in \d+\.\d\d ms", str(report))
    assert f.plane.halt_confirmations(report.halt) == set(f.ids)
    for n, i in enumerate(f.ids):
        assert submit(f, i, n).code is RejectCode.HALTED


def test_a_halt_written_by_one_instance_returns_the_fleet_report() -> None:
    f, _ = fleet(3)
    report = f["gw-2"].halt(HaltScope.ACCOUNT, "desk-7", "loss review", "risk-officer")
    assert str(report).startswith("3/3 halted in ")
    assert (report.halt.scope, report.halt.target, report.halt.who) == (
        HaltScope.ACCOUNT, "desk-7", "risk-officer",
    )  # fmt: skip


def test_a_halt_cancels_the_working_orders_it_covers_on_every_instance() -> None:
    f, _ = fleet(4)
    working = {i: submit(f, i, n).order_id for n, i in enumerate(f.ids)}
    f.halt(HaltScope.SYMBOL, "AAPL", "news", "ops")
    for i, order_id in working.items():
        assert order_id is not None
        assert f.instances[i].venue.cancels == [order_id]
        assert f[i].order(order_id).status is OrderStatus.WORKING  # until the venue confirms
    assert submit(f, "gw-1", 99, symbol="MSFT").accepted  # only AAPL is halted


def test_a_member_that_never_confirms_is_named_once_the_bound_passes() -> None:
    f, _ = fleet(3)
    silent = Attestation("gw-9", "b", "f", "c", "h", 1)  # registered, but nothing applies halts
    f.plane.register(silent, 10**12)
    report = f.halt(HaltScope.GLOBAL, "", "drill", "ops", bound_ms=30)
    assert report.confirmed == ("gw-1", "gw-2", "gw-3") and report.missing == ("gw-9",)
    assert report.elapsed_ms >= 30 and not report.complete
    assert str(report).endswith("; not confirmed: gw-9")
    assert str(report).startswith("3/4 halted in ")


def test_a_member_whose_lease_runs_out_unconfirmed_is_reported_lost_not_waited_for() -> None:
    f, clock = fleet(3)
    f.plane.register(Attestation("gw-9", "b", "f", "c", "h", 1), 500 * 1_000_000)

    def time_passes(event: ControlEvent) -> None:
        if isinstance(event, HaltPut):
            clock.advance_ms(600)  # gw-9's lease runs out while the halt propagates

    f.plane.watch(time_passes)
    report = f.halt(HaltScope.GLOBAL, "", "drill", "ops", bound_ms=5_000)
    assert report.lost == ("gw-9",) and report.missing == ()
    assert report.elapsed_ms < 5_000
    assert str(report).endswith("; lease lost (cannot trade): gw-9")


def test_a_restarted_instance_applies_the_halt_in_force_and_refuses() -> None:
    f, _ = fleet(2)
    f.halt(HaltScope.GLOBAL, "", "drill", "ops")
    r = f.plane.release()
    f.restart("gw-2", r.build_digest, r.flag_digest)
    assert submit(f, "gw-2", 1).code is RejectCode.HALTED
    assert f.plane.remove_halt(HaltScope.GLOBAL, "", "ops")
    assert submit(f, "gw-2", 2).accepted and submit(f, "gw-1", 3).accepted


class _LateWatch:
    """The plane as etcd's shape has it: a read sees a confirmation before the watch, a
    stream, delivers it (here 50 ms later, on a timer thread)."""

    def __init__(self, plane: Any) -> None:
        self.plane = plane

    def __getattr__(self, name: str) -> Any:
        return getattr(self.plane, name)

    def watch(self, watcher: Callable[[ControlEvent], None]) -> Callable[[], None]:
        return self.plane.watch(lambda e: threading.Timer(0.05, watcher, (e,)).start())


def test_pending_cancels_count_even_when_a_read_sees_the_confirmations_before_the_watch() -> None:
    f, _ = fleet(3)
    working = [submit(f, i, n).order_id for n, i in enumerate(f.ids)]
    assert None not in working  # each at the (never confirming) venue: a cancel pending
    halt = HaltRecord(HaltScope.GLOBAL, "", "runaway", "ops", 1)
    report = halt_fleet(_LateWatch(f.plane), halt, 2_000)
    assert report.complete and report.confirmed == tuple(sorted(f.ids))
    assert report.pending_cancel == 3, str(report)
    assert str(report).endswith("; 3 orders pending cancel")
