"""A FIX exchange in a process of its own that writes down what reached it, for crash tests.

`LoggedExchange` is the `FakeExchange` (real QuickFIX over TCP) with a log: every
NewOrderSingle and every cancel request is appended to a file and fsync'd *before* the
exchange answers it, and every Logon and Logout of a session is logged too. So the log
is what the venue got, whatever happened to the sender: a crash test SIGKILLs the gateway
beside it, waits for the killed session's `logout` line (everything the child had sent
was read by then), and checks each logged order against the journal the child left.

Fills, so that positions move: a market order fills at once (at the mid), a limit order
fills at once when its order id is a multiple of `fill_every`, an IOC order that did
not fill is cancelled at once (what is left of it expires), and every other order rests
until it is cancelled. Run it as

    python -m interlock.sim.logged_exchange --port P --log PATH --work-dir DIR --clients A,B

It prints `READY` once it listens, and stops when its standard input closes (its parent
went away), so it never outlives the test that started it.

Log lines are JSON objects, one a line: `{"ev": "order", "client", "id", "symbol", "side",
"qty", "type", "price"}`, `{"ev": "cancel", "client", "orig", "id"}`, and `{"ev": "logon" |
"logout", "client"}`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
from decimal import Decimal
from pathlib import Path
from typing import Any

import quickfix as fix

from interlock.sim.fix import FakeExchange, fields_of


class LoggedExchange(FakeExchange):
    """`FakeExchange` that fsyncs a line for each order, cancel, Logon and Logout first."""

    def __init__(
        self,
        work_dir: Path,
        port: int,
        log_path: Path,
        clients: tuple[str, ...],
        *,
        fill_every: int = 3,
        mid: Decimal = Decimal("100.00"),
        symbols: tuple[str, ...] = ("AAPL", "MSFT", "TSLA"),
    ) -> None:
        super().__init__(
            work_dir,
            port,
            "VENUE",
            fill=False,
            file_log=False,
            clients=clients,
            reset_on_logon=True,
            mids=dict.fromkeys(symbols, mid),
        )
        self._fill_every = fill_every
        self._log_lock = threading.Lock()
        self._log_fd = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def _append(self, entry: dict[str, Any]) -> None:
        """One line, on disk before this returns (and so before any answer goes out)."""
        line = (json.dumps(entry, separators=(",", ":")) + "\n").encode()
        with self._log_lock:
            os.write(self._log_fd, line)
            os.fsync(self._log_fd)

    def onLogon(self, session_id: fix.SessionID) -> None:
        self._append({"ev": "logon", "client": session_id.getTargetCompID().getValue()})
        super().onLogon(session_id)

    def onLogout(self, session_id: fix.SessionID) -> None:
        self._append({"ev": "logout", "client": session_id.getTargetCompID().getValue()})
        super().onLogout(session_id)

    def fromApp(self, message: fix.Message, session_id: fix.SessionID) -> None:
        got = fields_of(message)
        client = session_id.getTargetCompID().getValue()
        if got[35] == "D":
            self._append(
                {
                    "ev": "order",
                    "client": client,
                    "id": got.get(11),
                    "symbol": got.get(55),
                    "side": got.get(54),
                    "qty": got.get(38),
                    "type": got.get(40),
                    "price": got.get(44),
                }
            )
            market = got.get(40) == "1"
            self.fill = market or int(got.get(11, "1")) % self._fill_every == 0
            super().fromApp(message, session_id)  # one engine thread: `fill` is this order's
            if not self.fill and got.get(59) == "3":  # IOC: the rest expires
                self._cancel(session_id, client, f"{got[11]}|{got[11]}-ioc")
            return
        if got[35] == "F":
            self._append({"ev": "cancel", "client": client, "orig": got.get(41), "id": got.get(11)})
        super().fromApp(message, session_id)

    def close(self) -> None:
        self.stop(force=True)
        os.close(self._log_fd)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log", type=Path, required=True)
    parser.add_argument("--work-dir", type=Path, required=True)
    parser.add_argument("--clients", required=True, help="CompIDs that may log on, a,b,c")
    parser.add_argument("--fill-every", type=int, default=3)
    args = parser.parse_args(argv)
    exchange = LoggedExchange(
        args.work_dir,
        args.port,
        args.log,
        tuple(args.clients.split(",")),
        fill_every=args.fill_every,
    )
    exchange.start()
    print("READY", flush=True)
    try:
        sys.stdin.read()  # until the parent closes it, or dies
    finally:
        exchange.close()


if __name__ == "__main__":
    main()
