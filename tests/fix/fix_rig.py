"""The FIX test rig: a gateway behind a real acceptor, its desks, and a bounded wait."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

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
        c = FixClient(self.root / comp_id, self.port, comp_id, username, key)
        self.clients[comp_id] = c
        return c


def wait_until(pred: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.005)
    return pred()
