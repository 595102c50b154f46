"""The FIX test rig: a gateway behind a real acceptor, its desks, and a bounded wait."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import quickfix as fix

from interlock.api.fix import FixAcceptor
from interlock.sim.fix import FixClient
from interlock.sim.harness import DESK_KEY, Harness


@dataclass
class FixRig:
    harness: Harness
    acceptor: FixAcceptor
    port: int
    root: Path
    clients: dict[str, FixClient]
    retired: list[FixClient] = field(default_factory=list)  # stopped, kept from the GC

    def client(self, comp_id: str, username: str = "desk-7-algo", key: str = DESK_KEY) -> FixClient:
        # qualified: QuickFIX keeps one session registry per process, and the rig's clients
        # live until the session ends, so a later test's unqualified DESK1 (test_serve.py,
        # bench/soak.py in tests/test_bench_soak.py) would share their SessionID: a segfault
        c = FixClient(self.root / comp_id, self.port, comp_id, username, key, qualifier="rig")
        self.clients[comp_id] = c
        return c


def wait_until(pred: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.005)
    return pred()


def logged_off(rig: FixRig, comp_id: str) -> Callable[[], bool]:
    """No session of `comp_id` is logged on at the rig's acceptor: a raw session closed by
    the test before is gone there too (QuickFIX turns a second Logon of a session it still
    holds away by closing the connection, which a loaded machine made a flake)."""

    def gone() -> bool:
        for sid in rig.acceptor._engine.socket.getSessions():
            if sid.getTargetCompID().getValue() == comp_id:
                session = fix.Session.lookupSession(sid)
                if session is not None and session.isLoggedOn():
                    return False
        return True

    return gone
