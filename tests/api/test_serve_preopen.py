"""The pre-open readiness gate in a real `interlock serve` (embedded plane, wall clock, a
calendar that opens seconds after the start): a real cause (the mark feed has pushed no
reference price) pages a webhook on 127.0.0.1 before the open and again at it, `/health`
and `interlock preopen` name it, no order routes after the open, the mark feed's prices
do not lift an `until = "ack"` block, and a person's `interlock preopen --ack` does: the
acknowledgement is in the journal with who and which causes."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from api.serve_kit import PageReceiver, calendar_opening_in
from interlock.domain.events import ReadinessAcknowledged
from interlock.journal.sqlite import SqliteJournal
from interlock.sim.serve_fleet import ADMIN_TOKEN, ServeFleet, packaged_config, wait_until

PUBLISHER = "preopen-test-publisher"
OPEN_IN_S = 12.0


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "interlock.cli", *args], capture_output=True,
                          text=True, timeout=60, env={**os.environ, "COLUMNS": "200"})  # fmt: skip


def push_marks(feed_url: str) -> None:
    marks = [{"symbol": s, "price": "100.00"} for s in packaged_config()["instruments"]]
    r = httpx.post(f"{feed_url}/marks", json={"marks": marks}, timeout=5,
                   headers={"Authorization": f"Bearer {PUBLISHER}"})  # fmt: skip
    assert r.status_code == 200, r.text


@contextmanager
def marks_flowing(feed_url: str, every_s: float = 0.5) -> Iterator[None]:
    """The feed publishing as a live one does, every `every_s`: a price pushed once ages
    past its 5 s limit while a loaded machine runs a few CLI processes, and a stale price
    is a cause of its own (it failed this test so)."""
    push_marks(feed_url)
    stop = threading.Event()

    def publish() -> None:
        while not stop.wait(every_s):
            try:
                push_marks(feed_url)
            except (httpx.HTTPError, AssertionError):
                return  # serve is gone: the test is ending

    thread = threading.Thread(target=publish, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(5)


def test_serve_not_ready_at_the_open_pages_refuses_orders_and_opens_on_ack(tmp_path: Path) -> None:
    hook = PageReceiver(fail_first=1)
    extra = {
        "calendar": calendar_opening_in(OPEN_IN_S),
        "reference": {"source": "feed", "feed": {
            "port": 0, "publishers": [hashlib.sha256(PUBLISHER.encode()).hexdigest()]}},
        "preopen": {"webhook_url": hook.url, "check_interval_ms": 100, "webhook_retries": 2,
                    "webhook_timeout_ms": 1_000},
    }  # fmt: skip
    try:
        with ServeFleet(tmp_path, "embedded", extra=extra) as fleet:
            gw = fleet.start("gw-1").wait_started(60)
            announced = (re.search(r"reference feed listening on (\S+)", x) for x in gw.output)
            feed_url = next(m.group(1) for m in announced if m)
            admin = ("--admin", gw.admin_url, "--token", ADMIN_TOKEN)

            wait_until(lambda: any("reference:" in t for t in hook.texts()), 10,
                       "a page naming the stale reference prices before the open")  # fmt: skip
            assert hook.attempts >= 2  # the first POST got 503: retried, then delivered
            assert hook.pages[0]["source"] == "gw-1"
            before = cli("preopen", *admin)
            assert before.returncode == 1, before.stdout + before.stderr
            assert "NOT READY: gw-1" in before.stdout
            assert "  reference: 12 symbol(s) without a reference price" in before.stdout

            wait_until(lambda: gw.gate() == "NOT_READY", OPEN_IN_S + 15, "blocked at the open")
            wait_until(lambda: any("at the open" in t for t in hook.texts()), 10, "open page")
            health = gw.health()
            assert health["readiness"]["blocked"] and not health["readiness"]["ready"]
            assert [c["check"] for c in health["readiness"]["causes"]] == ["reference"]
            r = gw.submit("after-open-1")
            assert (r.status_code, r.json()["code"]) == (423, "NOT_READY"), r.text
            assert "reference: 12 symbol(s)" in r.json()["message"]

            with marks_flowing(feed_url):  # the cause clears; `until = "ack"` keeps the block
                wait_until(lambda: gw.health()["readiness"]["ready"], 10, "causes cleared")
                r = gw.submit("after-open-2")
                assert r.json()["code"] == "NOT_READY", r.text
                still = cli("preopen", *admin)
                assert still.returncode == 1 and "until a person acknowledges" in still.stdout

                wrong = cli("preopen", "--ack", "--admin", gw.admin_url, "--token", "not-a-token")
                assert wrong.returncode == 1 and "UNAUTHENTICATED" in wrong.stdout, wrong.stdout
                assert gw.gate() == "NOT_READY"
                acked = cli("preopen", "--ack", *admin)
                assert acked.returncode == 0, acked.stdout + acked.stderr
                assert "acknowledged by ops-kill-switch" in acked.stdout
                assert "routing unblocked" in acked.stdout
                ready = cli("preopen", *admin)
                assert ready.returncode == 0, ready.stdout + ready.stderr

                r = gw.submit("after-ack")
                assert r.status_code == 201, r.text
    finally:
        hook.close()
    journal = SqliteJournal(str(tmp_path / "gw-1" / "journal.db"))
    try:
        acks = [e for _, e in journal.read() if isinstance(e, ReadinessAcknowledged)]
    finally:
        journal.close()
    assert [a.who for a in acks] == ["ops-kill-switch"]
    assert acks[0].causes == ()  # the feed had cleared the cause: the person opened a block
