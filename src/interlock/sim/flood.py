"""Flooding a real `interlock serve`'s FIX order port, for the admin-under-flood test and
bench (tests/api/test_admin_under_fix_flood.py, bench/admin_under_flood.py).

`flood_config` writes a serve config with `sessions` FIX desks (DESK1..DESKn, all the
demo desk-7 key) and every rate envelope and monitor out of reach (`harness.high_rate`),
so the flood reaches the gateway instead of stopping at RATE_LIMIT. `FixFlood` logs the
desks on and has each send NewOrderSingles back to back, at most `window` unanswered at a
time (a backlog the acceptor can never drain would only measure the backlog), and records
for every order when it was sent and its first answer (OrdStatus, Text). `ConnectChurn`
opens TCP connections to the port over and over, each sending a line of garbage or
nothing before it closes. Every loop is bounded in count and time.
"""

from __future__ import annotations

import itertools
import socket
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from interlock.fixengine.engine import FixTls
from interlock.sim.fix_client import Fields, FixClient
from interlock.sim.harness import DESK_KEY, high_rate
from interlock.sim.serve_fleet import dump_toml


def flood_config(
    workdir: Path, sessions: int, comp_prefix: str = "DESK", fix: Mapping[str, str] | None = None
) -> Path:
    """A serve config under `workdir`: REST, admin and FIX on ports the OS picks, the 24/7
    calendar, the packaged limits with every envelope out of reach, `sessions` FIX desks;
    `fix`: more `[fix]` keys (the TLS files)."""
    workdir.mkdir(parents=True, exist_ok=True)
    data = high_rate().model_dump(mode="json", exclude_none=True)
    data["journal"] = {**data["journal"], "path": str(workdir / "journal.db")}
    data["rest"] = {**data["rest"], "port": 0}
    data["admin"] = {**data["admin"], "port": 0}
    data["calendar"] = {"always_open": True}
    desks = [{"comp_id": f"{comp_prefix}{i}", "username": "desk-7-algo", "account": "desk-7",
              "strategy": "vwap"} for i in range(1, sessions + 1)]  # fmt: skip
    data["fix"] = {"port": 0, "file_log": False, **(fix or {}), "sessions": desks}
    path = workdir / "flood.toml"
    path.write_text(dump_toml(data))
    return path


@dataclass
class Desk:
    """One flooding desk: its client and what it saw (ClOrdID -> sent at, first answer)."""

    client: FixClient
    sent: dict[str, float] = field(default_factory=dict)
    answers: dict[str, tuple[float, str, str]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def on_message(self, m: Fields) -> None:
        cl = m.get(11, "")
        if m.get(35) != "8" or not cl:
            return
        with self._lock:
            if cl in self.sent and cl not in self.answers:
                self.answers[cl] = (time.perf_counter(), m.get(39, ""), m.get(58, ""))

    def answered(self) -> list[tuple[float, str, str]]:
        """A snapshot of the answers (the client's thread adds to them meanwhile)."""
        with self._lock:
            return list(self.answers.values())

    def outstanding(self) -> int:
        with self._lock:
            return len(self.sent) - len(self.answers)


_RUNS = itertools.count(1)


class FixFlood:
    """`sessions` desks sending orders back to back until `stop()`, `max_orders` each or
    `max_s` seconds, whichever comes first."""

    def __init__(
        self,
        workdir: Path,
        port: int,
        sessions: int,
        *,
        host: str = "127.0.0.1",
        window: int = 50,
        max_orders: int = 20_000,
        max_s: float = 60.0,
        tls: FixTls | None = None,
    ) -> None:
        run = next(_RUNS)  # QuickFIX keeps one session registry per process: qualify ours
        self.desks = [
            Desk(
                FixClient(
                    workdir / f"desk{i}",
                    port,
                    f"DESK{i}",
                    "desk-7-algo",
                    DESK_KEY,
                    file_log=False,
                    host=host,
                    tls=tls,
                    qualifier=f"flood{run}",
                )
            )
            for i in range(1, sessions + 1)
        ]
        for d in self.desks:
            d.client.on_message = d.on_message
        self._window, self._max_orders, self._max_s = window, max_orders, max_s
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self, logon_s: float = 15.0) -> FixFlood:
        for d in self.desks:
            if not d.client.start(timeout=logon_s):
                raise RuntimeError(f"flood desk {len(self._threads) + 1} did not log on")
        for i, d in enumerate(self.desks):
            t = threading.Thread(target=self._run, args=(i, d), name=f"flood-{i}", daemon=True)
            t.start()
            self._threads.append(t)
        return self

    def _run(self, worker: int, desk: Desk) -> None:
        end = time.perf_counter() + self._max_s
        for n in range(self._max_orders):
            while desk.outstanding() >= self._window:
                if self._stop.is_set() or time.perf_counter() > end:
                    return
                time.sleep(0.0005)
            if self._stop.is_set() or time.perf_counter() > end:
                return
            cl = f"fl{worker}-{n}"
            with desk._lock:
                desk.sent[cl] = time.perf_counter()
            # quantity and price vary so DUPLICATE_ORDER rarely answers first; sizes stay
            # small (MAX_ORDER_QTY), and buys alternate with sells (POSITION_LIMIT comes later)
            qty, tick = 1 + n % 89, (n // 89 + worker * 7) % 40
            side = "1" if n % 2 else "2"
            desk.client.new_order(cl, side=side, qty=qty, price=f"{99.80 + tick / 100:.2f}")

    def answered(self) -> int:
        return sum(len(d.answers) for d in self.desks)

    def answers_sent_after(self, t: float) -> list[tuple[str, str]]:
        """(OrdStatus, Text) of every answered order sent after perf_counter time `t`."""
        out = []
        for d in self.desks:
            with d._lock:
                out += [(s, txt) for cl, (_, s, txt) in d.answers.items() if d.sent[cl] > t]
        return out

    def sent_after(self, t: float) -> int:
        return sum(sum(1 for at in list(d.sent.values()) if at > t) for d in self.desks)

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(10)
        for d in self.desks:
            d.client.stop()


class ConnectChurn:
    """Threads connecting to `host:port` again and again (garbage or silence, then close)."""

    GARBAGE = b"8=FIX.4.4\x019=12\x0135=A\x01not fix at all\r\n"

    def __init__(self, host: str, port: int, threads: int = 2, max_s: float = 60.0) -> None:
        self._addr, self._max_s = (host, port), max_s
        self._stop = threading.Event()
        self.attempts = 0
        self._threads = [threading.Thread(target=self._run, args=(i,), daemon=True)
                         for i in range(threads)]  # fmt: skip

    def start(self) -> ConnectChurn:
        for t in self._threads:
            t.start()
        return self

    def _run(self, worker: int) -> None:
        end = time.perf_counter() + self._max_s
        n = 0
        while not self._stop.is_set() and time.perf_counter() < end:
            n += 1
            try:
                with socket.create_connection(self._addr, timeout=2) as s:
                    if (n + worker) % 2:
                        s.sendall(self.GARBAGE)
            except OSError:
                pass
            self.attempts += 1

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(10)
