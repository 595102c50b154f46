"""The crash test's processes: the venue (the logged exchange, read through its log) and
the zygote that forks each gateway child warm (`load_child.py`). Every wait is bounded by
`WAIT_S`, and every process dies with the test process however that ends."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from interlock.errors import JournalError
from interlock.journal.sqlite import SqliteJournal
from interlock.sim.procs import die_with_parent, free_ports, stop_process

CHILD = Path(__file__).with_name("load_child.py")
WAIT_S = 20.0  # bound on any one wait: a child's start, its acks, the venue's logout


class VenueLog:
    """The logged exchange's file, read on (each call returns the lines added since)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._offset = 0
        self._buffer = b""

    def new_entries(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        with open(self.path, "rb") as handle:
            handle.seek(self._offset)
            data = handle.read()
        self._offset += len(data)
        self._buffer += data
        *lines, self._buffer = self._buffer.split(b"\n")
        return [json.loads(line) for line in lines if line]


class Exchange:
    """The venue process: started for `clients`, stopped (stdin closed) at the end."""

    def __init__(self, root: Path, clients: list[str]) -> None:
        self.port = free_ports(1)[0]
        self.log = VenueLog(root / "venue.log")
        self._err = open(root / "exchange.err", "ab")  # noqa: SIM115  closed in close()
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "interlock.sim.logged_exchange",
                "--port",
                str(self.port),
                "--log",
                str(self.log.path),
                "--work-dir",
                str(root / "exchange"),
                "--clients",
                ",".join(clients),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._err,
            text=True,
            preexec_fn=die_with_parent,
        )
        line = _readline(self.proc, WAIT_S)
        assert line.strip() == "READY", f"exchange did not start: {self._tail()}"

    def _tail(self) -> str:
        return (self.log.path.parent / "exchange.err").read_text(errors="replace")[-2000:]

    def session_down(self, client: str, seen: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Wait (bounded) for `client`'s logout line; every line read on the way, too."""
        deadline = time.monotonic() + WAIT_S
        while not any(e["ev"] == "logout" and e["client"] == client for e in seen):
            assert time.monotonic() < deadline, f"venue never saw {client} go: {self._tail()}"
            assert self.proc.poll() is None, f"exchange died: {self._tail()}"
            time.sleep(0.005)
            seen = seen + self.log.new_entries()
        return seen

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            stop_process(self.proc)
        assert self.proc.stdout is not None
        self.proc.stdout.close()
        self._err.close()


def _readline(proc: subprocess.Popen[str], timeout: float) -> str:
    """One line of `proc`'s stdout, or '' once it is killed for taking over `timeout`."""
    watchdog = threading.Timer(timeout, proc.kill)  # a hung child must not hang the suite
    watchdog.start()
    try:
        assert proc.stdout is not None
        return proc.stdout.readline()
    finally:
        watchdog.cancel()


class Zygote:
    """`load_child.py zygote`: forks each child warm (see there why), one at a time."""

    def __init__(self, root: Path) -> None:
        self.log = root / "children.log"
        self._err = open(self.log, "ab")  # noqa: SIM115  closed in close()
        self.proc = subprocess.Popen(
            [sys.executable, str(CHILD), "zygote"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._err,
            text=True,
            preexec_fn=die_with_parent,
        )

    def _tail(self) -> str:
        return self.log.read_text(errors="replace")[-2000:]

    def run_until_killed(self, args: list[Any], acks_wanted: int) -> tuple[Any, list[list[str]]]:
        """Fork a child on `args`, read its READY line and `acks_wanted` acks, SIGKILL it,
        then read what it printed before it died: every ack printed counts."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(args) + "\n")
        self.proc.stdin.flush()
        pid_line = _readline(self.proc, WAIT_S).split()
        assert pid_line[:1] == ["PID"], f"zygote: {pid_line}: {self._tail()}"
        pid = int(pid_line[1])
        acks: list[list[str]] = []
        ready: list[str] = []
        unreconciled = ""  # the child's reconciliation with the venue failed: it says why
        exit_code: int | None = None
        try:
            deadline = time.monotonic() + WAIT_S
            while exit_code is None and len(acks) < acks_wanted:
                line = _readline(self.proc, max(0.1, deadline - time.monotonic()))
                assert line, f"zygote died: {self._tail()}"
                if line.startswith("ACK ") and len(line.split()) == 4:
                    acks.append(line.split()[1:])
                elif line.startswith("READY "):
                    ready = line.split(maxsplit=1)
                    if args[0] == "sqlite":  # the child holds the journal
                        with pytest.raises(JournalError, match="in use"):
                            SqliteJournal(args[1], background=False)
                elif line.startswith("UNRECONCILED"):
                    ready = []
                    unreconciled = line.strip()
                elif line.startswith("EXIT "):
                    exit_code = int(line.split()[1])
        finally:
            if exit_code is None:
                os.kill(pid, signal.SIGKILL)  # not reaped yet (no EXIT): still our child's pid
        while exit_code is None:  # the rest it printed, up to its end
            line = _readline(self.proc, WAIT_S)
            assert line, f"zygote died: {self._tail()}"
            if line.startswith("ACK ") and len(line.split()) == 4:
                acks.append(line.split()[1:])
            elif line.startswith("EXIT "):
                exit_code = int(line.split()[1])
        assert exit_code == -signal.SIGKILL, f"child died on its own: {unreconciled} {self._tail()}"
        assert ready, f"child did not start: {self._tail()}"
        return json.loads(ready[1]), acks

    def close(self) -> None:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.close()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            stop_process(self.proc)
        self.proc.stdout.close()
        self._err.close()
