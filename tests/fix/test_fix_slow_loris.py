"""A peer that sends its Logon a byte at a time cannot stall the other sessions.

QuickFIX reads a new connection's first message blocking the acceptor's only thread
(fixengine/first_message.py); found by the FIX fuzz. Over real TCP on 127.0.0.1: while a
slow-loris drips, a logged-on desk's order is still acknowledged, and the dripping
connection is closed by the acceptor."""

from __future__ import annotations

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
