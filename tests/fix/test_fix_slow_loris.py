"""A peer that sends its Logon a byte at a time cannot stall the other sessions, and one
whose Logon the engine can neither take nor refuse cannot lock its desk out.

QuickFIX reads a new connection's first message blocking the acceptor's only thread
(fixengine/first_message.py); found by the FIX fuzz. Over real TCP on 127.0.0.1: while a
slow-loris drips, a logged-on desk's order is still acknowledged, and the dripping
connection is closed by the acceptor."""

from __future__ import annotations

import pytest
from fix_rig import FixRig, wait_until

from interlock.sim.fix_fuzz_run import SlowLoris


def test_a_slow_loris_logon_is_closed_and_never_stalls_a_logged_on_session(rig: FixRig) -> None:
    desk = rig.clients["DESK1"]
    slow = SlowLoris("127.0.0.1", rig.port, 1, b"DESK3", byte_every_s=0.1)  # ~10 s of drip
    try:
        assert wait_until(lambda: slow.bytes_sent >= 3, timeout=5)  # the acceptor is reading it
        desk.new_order("loris-1", price="97.11")
        ack = desk.expect(lambda m: m[35] == "8" and m.get(11) == "loris-1", timeout=3)
        assert ack[150] in {"0", "1", "2", "F"}, ack
        assert wait_until(lambda: slow.closed_by_peer == 1, timeout=5)
        assert slow.bytes_sent < 60  # cut off long before its Logon could be whole
    finally:
        slow.close()


def test_a_logon_the_engine_cannot_take_does_not_lock_the_desk_out(rig: FixRig) -> None:
    """A Logon with a field of no value is neither taken nor refused by QuickFIX, and its
    connection held the CompID's session: the desk's own Logon was turned away for as
    long as the squatter stayed. Now the squatter is closed within LOGON_S (5 s)."""
    import time

    from interlock.sim.fix_wire import RawSession, SessionGone
    from interlock.sim.harness import DESK_KEY

    squatter = RawSession("127.0.0.1", rig.port, b"DESK3", b"")
    squatter.connect()
    squatter.send_pairs(b"A", [(b"98", b"0"), (b"108", b"30"), (b"553", b"desk-7-algo"),
                               (b"554", b"")])  # fmt: skip
    desk = RawSession("127.0.0.1", rig.port, b"DESK3", DESK_KEY.encode())
    deadline, answer = time.monotonic() + 10, ""
    try:
        while time.monotonic() < deadline and answer != "A":
            try:
                answer = desk.logon(timeout_s=2).msg_type
            except (SessionGone, TimeoutError):
                time.sleep(0.2)  # the next attempt's pace; the deadline bounds the test
        assert answer == "A"
        with pytest.raises(SessionGone):  # the acceptor closed it, never having answered it
            squatter.pump(2)
    finally:
        desk.close()
        squatter.close()
