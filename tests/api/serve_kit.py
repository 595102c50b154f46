"""`interlock serve` as a real child process, for the tests that start one: a config file
made from the packaged default (ports picked by the OS, journal in tmp_path, the 24/7
calendar so any hour works), and the process with its output lines fed to a queue."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
from pathlib import Path

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
