"""Confirmed halts: write a halt, then wait until every live member says it applied it.

Knight had no way to stop SMARS and no way to know it had stopped. Here each instance
confirms every halt it applies (`ControlPlane.confirm_halt`), and the operator's `halt`
returns a report: who confirmed, who did not within the bound, and how long it took,
printable as "8/8 halted in 0.4 ms". A member whose lease runs out while we wait needs no
confirmation: its gate has closed by itself, and the report lists it apart.

A confirmation also says what is left at the venue: each member confirms only once every
working order the halt covers is cancelled there or counted as pending cancel (its cancel
sent, or to follow the hand-over under way, but not yet confirmed by the venue). The report
adds those counts up: "8/8 halted in 0.4 ms; 3 orders pending cancel". The counts come
with the confirmations the watch delivers; a read of the plane may see a confirmation first
(etcd's watch is a stream that lags the read), so the wait goes on, within the bound, until
the watch has brought each confirmer's count.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from interlock.control.plane import ControlEvent, HaltConfirmed, HaltRecord, MemberLost
from interlock.control.ports import ControlPlane

_POLL_S = 0.05  # while waiting, re-read the live members this often (leases may run out
# without a MemberLost yet: the embedded plane announces expiry on its next call)


@dataclass(frozen=True, slots=True)
class HaltReport:
    halt: HaltRecord
    expected: tuple[str, ...]  # live members when the halt was written
    confirmed: tuple[str, ...]
    missing: tuple[str, ...]  # still live, but no confirmation within the bound
    lost: tuple[str, ...]  # lease ran out unconfirmed: fenced by the lease instead
    elapsed_ms: float
    pending_cancel: int = 0  # covered orders the confirming members still await a cancel for
    error: str = ""  # the plane failed: the halt holds only where this says

    @property
    def complete(self) -> bool:
        return not self.missing and not self.error

    def __str__(self) -> str:
        text = f"{len(self.confirmed)}/{len(self.expected)} halted in {self.elapsed_ms:,.2f} ms"
        if self.pending_cancel:
            s = "" if self.pending_cancel == 1 else "s"
            text += f"; {self.pending_cancel:,} order{s} pending cancel"
        if self.missing:
            text += f"; not confirmed: {', '.join(self.missing)}"
        if self.lost:
            text += f"; lease lost (cannot trade): {', '.join(self.lost)}"
        if self.error:
            text += f"; control plane unreachable, halted {self.error}"
        return text


def halt_fleet(
    plane: ControlPlane,
    halt: HaltRecord,
    bound_ms: float,
    timer: Callable[[], int] = time.perf_counter_ns,
) -> HaltReport:
    """Write `halt` and return once every live member confirmed it, or `bound_ms` passed."""
    expected = frozenset(m.instance_id for m in plane.members())
    confirmed: set[str] = set()
    pending: dict[str, int] = {}  # from the confirmations seen: the watch carries the counts
    woken = threading.Event()

    gone: set[str] = set()  # lost while we wait, as the watch announced it

    def on_event(event: ControlEvent) -> None:
        if isinstance(event, HaltConfirmed) and event.halt == halt:
            pending[event.instance_id] = event.pending_cancel
            confirmed.add(event.instance_id)
            if expected <= pending.keys() | gone:
                woken.set()
        elif isinstance(event, MemberLost) and event.instance_id in expected:
            gone.add(event.instance_id)
            woken.set()

    unwatch = plane.watch(on_event)
    start = timer()
    deadline = start + int(bound_ms * 1_000_000)
    try:
        plane.put_halt(halt)
        confirmed.update(plane.halt_confirmations(halt))  # any we were not watching for
        waiting = expected - pending.keys()  # until the watch brought each one's count
        asked = timer()
        while waiting:
            left = deadline - timer()
            if left <= 0:
                break
            woken.wait(min(left / 1e9, _POLL_S))
            woken.clear()
            if timer() - asked >= _POLL_S * 1e9:  # a lease may have run out unannounced
                gone.update(expected - {m.instance_id for m in plane.members()})
                asked = timer()
            waiting = expected - pending.keys() - gone
        elapsed = timer() - start
    finally:
        unwatch()
    live = {m.instance_id for m in plane.members()}
    got = expected & confirmed
    return HaltReport(
        halt,
        tuple(sorted(expected)),
        tuple(sorted(got)),
        tuple(sorted((expected - got) & live)),
        tuple(sorted(expected - got - live)),
        elapsed / 1e6,
        sum(pending.get(i, 0) for i in got),
    )
