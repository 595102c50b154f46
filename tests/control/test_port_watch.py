"""WatchPort, against every backend: every change is delivered to every watcher, in the
order the plane made it, until it unsubscribes; a watcher that fails does not keep events
from the others, and a watcher may call back into the plane (an instance confirms a halt
from its watch callback).
"""

from __future__ import annotations

from collections.abc import Callable

from plane_backends import Backend, is_marker

from interlock.control.plane import (
    HaltConfirmed,
    HaltPut,
    HaltRecord,
    HaltRemoved,
    MemberJoined,
    MemberLost,
    Proposal,
    ProposalPut,
    Release,
    ReleaseChanged,
)
from interlock.domain.enums import HaltScope


def halt(target: str = "AAPL") -> HaltRecord:
    return HaltRecord(HaltScope.SYMBOL, target, "runaway", "ops", 1)


def heard_by(backend: Backend) -> tuple[list[object], Callable[[], None]]:
    """A watcher's list of what it heard (settle markers left out) and its unsubscribe."""
    heard: list[object] = []
    stop = backend.plane.watch(lambda e: None if is_marker(e) else heard.append(e))
    return heard, stop


def test_changes_of_every_port_arrive_in_the_order_they_were_made(backend: Backend) -> None:
    backend.join("gw-1")
    backend.plane.put_halt(halt())
    backend.plane.put_proposal(Proposal("b2", "f2", ("gw-1",), 1, "ops", backend.now()))
    backend.plane.remove_halt(HaltScope.SYMBOL, "AAPL", "ops")
    backend.plane.leave("gw-1")
    kinds = [MemberJoined, HaltPut, ProposalPut, HaltRemoved, MemberLost]
    backend.events_of(MemberLost)
    backend.settle()
    assert [type(e) for e in backend.events] == kinds


def test_unsubscribed_watchers_hear_nothing_more(backend: Backend) -> None:
    heard, stop = heard_by(backend)
    backend.plane.put_halt(halt())
    backend.eventually(lambda: heard == [HaltPut(halt())], what="the first halt heard")
    stop()
    backend.plane.put_halt(halt("MSFT"))
    backend.events_of(HaltPut, 2)  # the suite's own watcher heard the second
    backend.settle()
    assert heard == [HaltPut(halt())]


def test_a_failing_watcher_does_not_keep_events_from_the_others(backend: Backend) -> None:
    def broken(_: object) -> None:
        raise RuntimeError("watcher bug")

    backend.plane.watch(broken)
    later, _ = heard_by(backend)
    backend.plane.put_halt(halt())
    backend.plane.put_halt(halt("MSFT"))
    backend.eventually(lambda: later == [HaltPut(halt()), HaltPut(halt("MSFT"))],
                       what="both halts heard after the broken watcher")  # fmt: skip


def test_a_watcher_may_call_back_into_the_plane(backend: Backend) -> None:
    def confirm(event: object) -> None:  # as an instance applies and confirms a halt
        if isinstance(event, HaltPut) and not is_marker(event):
            backend.plane.confirm_halt("gw-1", event.halt)

    backend.plane.watch(confirm)
    backend.plane.put_halt(halt())
    backend.eventually(lambda: backend.plane.halt_confirmations(halt()) == {"gw-1"},
                       what="gw-1's confirmation from its watch callback")  # fmt: skip
    [confirmed] = backend.events_of(HaltConfirmed)
    assert (confirmed.instance_id, confirmed.halt) == ("gw-1", halt())


def test_a_release_change_reaches_a_watcher_subscribed_before_it(backend: Backend) -> None:
    heard, _ = heard_by(backend)
    new = Release("b2", "f2", backend.plane.release().epoch + 1, config_digest="cfg")
    backend.plane.set_release(new, "ops")
    backend.eventually(lambda: heard == [ReleaseChanged(new, "ops")], what="the release change")
