"""Serve's logging never writes on the thread that logs: a stalled console must not hold
an order (serve logs a line for every decision)."""

from __future__ import annotations

import io
import json
import logging
import threading
from collections.abc import Iterator

import pytest

from interlock.api import log_format


class StalledConsole(io.StringIO):
    """A console whose writes wait until `go` is set (a full pipe, a paused terminal)."""

    def __init__(self) -> None:
        super().__init__()
        self.go = threading.Event()

    def write(self, s: str) -> int:
        self.go.wait(30)
        return super().write(s)


@pytest.fixture
def console() -> Iterator[StalledConsole]:
    stream = StalledConsole()
    yield stream
    stream.go.set()
    log_format.stop_logging()
    logging.getLogger("interlock").handlers[:] = []


def test_decisions_are_logged_without_waiting_for_a_stalled_console(
    console: StalledConsole,
) -> None:
    log_format.configure_logging("json", console)
    log = logging.getLogger("interlock.decisions")
    done = threading.Event()

    def decide() -> None:
        for n in range(500):
            log.info("never-blocks %d accepted", n, extra={"event": "order.decided", "order_id": n})
        done.set()

    threading.Thread(target=decide, daemon=True).start()
    assert done.wait(20), "logging waited for the console"
    assert console.getvalue() == ""  # nothing written yet: the console is still stalled
    console.go.set()
    log_format.stop_logging()  # drains the queue, as at exit
    lines = [json.loads(x) for x in console.getvalue().splitlines()]
    ours = [x for x in lines if x["msg"].startswith("never-blocks ")]  # not other threads'
    assert [x["order_id"] for x in ours] == list(range(500))  # all of them, in order
    assert ours[0]["event"] == "order.decided" and ours[0]["msg"] == "never-blocks 0 accepted"


def test_a_full_queue_drops_and_counts_never_blocks(
    console: StalledConsole, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(log_format, "QUEUE_RECORDS", 10)
    handler = log_format.configure_logging("text", console)
    log = logging.getLogger("interlock.decisions")
    done = threading.Event()

    def flood() -> None:
        for n in range(200):
            log.info("flood %d", n)
        done.set()

    threading.Thread(target=flood, daemon=True).start()
    assert done.wait(20), "logging blocked on a full queue"
    assert handler.dropped >= 200 - 11  # only the queue and the one being written are kept
    console.go.set()
    log_format.stop_logging()
    ours = [x for x in console.getvalue().splitlines() if " flood " in f" {x.split(': ', 1)[-1]}"]
    kept = [int(x.rsplit(" ", 1)[1]) for x in ours]
    assert 1 <= len(kept) <= 11 and kept == sorted(kept)  # what was kept, in order
