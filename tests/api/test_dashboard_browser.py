"""The dashboard in real headless Chromium (Debian's, driven by Playwright) against a real
`interlock serve`: sign in, see orders move the page without a reload, halt with one
confirmation and read "1/1 halted in M ms", resume with two. Saves the README's
screenshots under docs/."""

from __future__ import annotations

import queue
import re
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import sync_playwright

from api.conftest import ADMIN_TOKEN
from api.serve_kit import ROOT, serve_config, start_serve
from interlock.sim.harness import DESK_KEY

CHROMIUM = Path("/usr/bin/chromium")
"""Debian's browser (scripts/test.sh installs it): absent, the test fails, it never skips."""
ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update",
        "--no-first-run"]  # fmt: skip


def _urls(lines: queue.Queue[str]) -> tuple[str, str]:
    """The REST and admin URLs serve announces once it listens."""
    rest = admin = ""
    while not (rest and admin):
        line = lines.get(timeout=30)
        if found := re.search(r"rest listening on (http://127\.0\.0\.1:\d+)", line):
            rest = found.group(1)
        if found := re.search(r"admin listening on (http://127\.0\.0\.1:\d+)", line):
            admin = found.group(1)
    return rest, admin


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[tuple[str, str]]:
    proc, lines, _ = start_serve(serve_config(tmp_path))
    try:
        yield _urls(lines)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _order(rest: str, n: int) -> None:
    """A resting desk-7 buy of AAPL placed over REST."""
    body = {
        "client_order_id": f"dash-{n}",
        "account": "desk-7",
        "strategy": "vwap",
        "symbol": "AAPL",
        "side": "buy",
        "quantity": 100 * n,
        "limit_price": "100.00",
    }
    r = httpx.post(f"{rest}/orders", json=body, timeout=5,
                   headers={"Authorization": f"Bearer {DESK_KEY}"})  # fmt: skip
    assert r.status_code in (200, 201), r.text


def test_dashboard_in_chromium_halts_and_resumes_a_running_serve(serve: tuple[str, str]) -> None:
    rest, admin = serve
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            page.set_default_timeout(15_000)
            page.goto(f"{admin}/dashboard")
            page.fill("#token", ADMIN_TOKEN)
            page.click("#signin")
            page.wait_for_selector("#release")
            assert "no orders in the last minute" in page.inner_text("#live")

            _order(rest, 1)  # placed over REST while the page is open: the stream moves it
            _order(rest, 2)
            page.wait_for_selector('[data-line="desk-7/AAPL"]')
            page.wait_for_selector('#rates [data-code="ACCEPTED"]')
            assert page.evaluate("performance.getEntriesByType('navigation').length") == 1
            page.screenshot(path=str(ROOT / "docs" / "dashboard.png"))

            dialogs: list[str] = []
            page.on("dialog", lambda d: (dialogs.append(d.message), d.accept()))
            page.select_option("#scope", "account")
            page.fill("#target", "desk-7")
            page.click("#halt")
            page.wait_for_function(
                "document.getElementById('result').textContent.includes('halted in')"
            )
            assert re.match(r"1/1 halted in [\d.,]+ ms", page.inner_text("#result"))
            assert dialogs == ["Halt account desk-7?"]
            page.wait_for_selector("#halts")
            assert "1/1 confirmed" in page.inner_text("#halts")
            page.screenshot(path=str(ROOT / "docs" / "dashboard-halted.png"))

            page.click("#resume")
            page.wait_for_function(
                "document.getElementById('result').textContent.startsWith('resumed')"
            )
            assert len(dialogs) == 3  # the halt's one, and the resume's two
            page.wait_for_selector("#halts-none")
        finally:
            browser.close()
    r = httpx.get(f"{admin}/halts", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert r.json() == []
