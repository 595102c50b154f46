"""`interlock serve` as a real child process, for the tests that start one: a config file
made from the packaged default (ports picked by the OS, journal in tmp_path, the 24/7
calendar so any hour works), and the process with its output lines fed to a queue."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[2]


def serve_config(tmp_path: Path, extra: str = "") -> Path:
    """The packaged default with REST and admin on port 0, plus `extra` TOML appended."""
    text = (ROOT / "src" / "interlock" / "data" / "default.toml").read_text()
    text = text.replace("port = 8640", "port = 0").replace("port = 8641", "port = 0")
    journal = tmp_path / "serve-journal.db"
    text = text.replace('path = "interlock-journal.db"', f'path = "{journal}"')
    # serve runs on the wall clock, and the tests at any hour: the 24/7 calendar
    text = text.replace("[calendar]\n", "[calendar]\nalways_open = true\n")
    path = tmp_path / "serve.toml"
    path.write_text(text + extra)
    return path


def set_keys(config: Path, section: str, **keys: str) -> Path:
    """Set `keys` (string values) in the `[section]` table of the file `config`: a key the
    table has is replaced, a new one added; the table is appended when the file has none
    (TOML forbids a table twice)."""
    text = config.read_text()
    header = f"[{section}]\n"
    if header not in text:
        text += "\n" + header
    start = text.index(header) + len(header)
    end = text.find("\n[", start)
    end = len(text) if end < 0 else end + 1
    body = [x for x in text[start:end].splitlines(keepends=True)
            if x.split("=")[0].strip() not in keys]  # fmt: skip
    body[:0] = [f"{k} = {json.dumps(v)}\n" for k, v in keys.items()]
    config.write_text(text[:start] + "".join(body) + text[end:])
    return config


def announced(lines: queue.Queue[str], names: int, deadline_s: float = 30.0) -> dict[str, str]:
    """`{name: address}` of the first `names` "<name> listening on <address>" lines serve
    prints (rest, admin, fix acceptor), waiting at most `deadline_s` in all."""
    found: dict[str, str] = {}
    deadline = time.monotonic() + deadline_s
    while len(found) < names:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"serve announced only {found} within {deadline_s} s")
        try:
            line = lines.get(timeout=left)
        except queue.Empty:
            continue
        if m := re.search(r"(rest|admin|fix acceptor) listening on (\S+)", line):
            found[m.group(1)] = m.group(2)
    return found


def start_serve(
    config: Path,
) -> tuple[subprocess.Popen[str], queue.Queue[str], threading.Thread]:
    """`interlock serve` as a child process, its output lines fed to a queue by a thread."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "interlock.cli", "serve", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(
        target=lambda: [lines.put(line) for line in proc.stdout or ()], daemon=True
    )
    reader.start()
    return proc, lines, reader


def stop_serve(proc: subprocess.Popen[str]) -> None:
    """Stop serve as an operator does (SIGTERM): it must exit 0 within 30 s."""
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0


def kill_if_running(proc: subprocess.Popen[str]) -> None:
    """For a test's `finally`: a serve the test left running (it failed) is killed, so no
    child outlives its test."""
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def fix_section(port: int) -> str:
    """A `[fix]` acceptor on `port` with one desk session (DESK1, desk-7/vwap)."""
    return f"""
[fix]
port = {port}
file_log = false

[[fix.sessions]]
comp_id = "DESK1"
username = "desk-7-algo"
account = "desk-7"
strategy = "vwap"
"""


def calendar_opening_in(seconds: float) -> dict[str, Any]:
    """A `[calendar]` table whose continuous session opens about `seconds` from now on the
    wall clock: a fixed-offset zone where that is late morning (so every boundary falls
    inside the local day, at any hour the test runs), every weekday trading, no holiday.
    Serve's real open, for the readiness gate; the packaged half days (13:00) stay valid."""
    at = (datetime.now(UTC) + timedelta(seconds=seconds + 1)).replace(microsecond=0)
    offset = 11 - at.hour  # local hour 11
    zone = "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"  # Etc/GMT-3 is UTC+3
    local = at.astimezone(ZoneInfo(zone)).replace(tzinfo=None)
    return {
        "always_open": False,
        "time_zone": zone,
        "pre_open": (local - timedelta(hours=2)).time(),
        "opening_auction": (local - timedelta(seconds=1)).time(),
        "continuous": local.time(),
        "close": (local + timedelta(hours=4)).time(),
        "weekdays": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
        "holidays": [],
    }


class PageReceiver:
    """The on-call system's webhook on 127.0.0.1: records each POSTed JSON page; the first
    `fail_first` POSTs are answered 503, so the sender's retry is seen."""

    def __init__(self, fail_first: int = 0) -> None:
        self.pages: list[dict[str, Any]] = []
        self.attempts = 0
        self._fail = fail_first
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.attempts += 1
                if receiver._fail > 0:
                    receiver._fail -= 1
                    self.send_response(503)
                else:
                    receiver.pages.append(json.loads(body))
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *_: object) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/page"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def texts(self) -> list[str]:
        return [str(p["text"]) for p in list(self.pages)]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
