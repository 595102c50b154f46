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
            log.info("order %d accepted", n, extra={"event": "order.decided", "order_id": n})
        done.set()

    threading.Thread(target=decide, daemon=True).start()
    assert done.wait(20), "logging waited for the console"
    assert console.getvalue() == ""  # nothing written yet: the console is still stalled
    console.go.set()
    log_format.stop_logging()  # drains the queue, as at exit
    lines = [json.loads(x) for x in console.getvalue().splitlines()]
    assert [x["order_id"] for x in lines] == list(range(500))  # all of them, in order
    assert lines[0]["event"] == "order.decided" and lines[0]["msg"] == "order 0 accepted"


def test_a_full_queue_drops_and_counts_never_blocks(
    console: StalledConsole, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(log_format, "QUEUE_RECORDS", 10)
    handler = log_format.configure_logging("text", console)
    log = logging.getLogger("interlock.decisions")
    done = threading.Event()

    def flood() -> None:
        for n in range(200):
            log.info("order %d", n)
        done.set()

    threading.Thread(target=flood, daemon=True).start()
    assert done.wait(20), "logging blocked on a full queue"
    assert 200 - 11 <= handler.dropped < 200  # the queue and the one being written kept
    console.go.set()
    log_format.stop_logging()
    assert len(console.getvalue().splitlines()) == 200 - handler.dropped
