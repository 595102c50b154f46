"""The operator CLI against a real `interlock serve` child process: the same commands, in
another process, over its admin port, with the packaged config's admin token."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

from api.serve_kit import kill_if_running, serve_config, start_serve, stop_serve

TOKEN = "demo-admin-token"  # the packaged config's operator token


def _cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "INTERLOCK_ADMIN_URL": url, "INTERLOCK_ADMIN_TOKEN": TOKEN,
           "COLUMNS": "250"}  # fmt: skip
    return subprocess.run([sys.executable, "-m", "interlock.cli", *args], capture_output=True,
                          text=True, env=env, timeout=60, check=False)  # fmt: skip


def test_status_flags_and_halt_act_on_the_served_plane(tmp_path: Path) -> None:
    proc, lines, _ = start_serve(serve_config(tmp_path))
    try:
        deadline = time.monotonic() + 30
        url = None
        while url is None and time.monotonic() < deadline:
            found = re.search(r"admin listening on (http://\S+)", lines.get(timeout=20))
            url = found.group(1) if found else None
        assert url is not None

        status = _cli(url, "fleet", "status")
        assert status.returncode == 0, status.stdout + status.stderr
        assert "1/1 live members attested" in status.stdout and TOKEN not in status.stdout

        made = _cli(url, "flags", "register", "rlp", "--id", "2", "--meaning", "RLP",
                    "--owner", "smars")  # fmt: skip
        assert made.returncode == 0 and "registered: 'rlp'" in made.stdout, made.stdout
        # the served build ships no flag manifest: it declares no flag, so 'rlp' stays off
        enable = _cli(url, "flags", "enable", "rlp")
        assert enable.returncode == 1 and enable.stdout.startswith("FLAG_REFUSED: ")
        assert "gw-1" in enable.stdout and "Traceback" not in enable.stderr

        halted = _cli(url, "fleet", "halt", "--reason", "drill")
        assert halted.returncode == 0 and "1/1 halted in " in halted.stdout, halted.stdout
        stop_serve(proc)
    finally:
        kill_if_running(proc)
