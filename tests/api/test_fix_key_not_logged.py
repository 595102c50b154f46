"""A FIX Logon carries the trading key in Password (554): a real serve with QuickFIX's
message log on must not keep it anywhere it writes (the message log, its own output),
after a logon accepted and one refused."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from api.serve_kit import fix_section, kill_if_running, serve_config, start_serve, stop_serve

pytest.importorskip("quickfix")

from interlock.sim.fix_client import FixClient, free_port

DESK_KEY = "demo-desk-7-key"
WRONG = "authmatrix-wrong-password-1234"


def test_the_fix_message_log_keeps_no_logon_password(tmp_path: Path) -> None:
    port = free_port()
    config = serve_config(tmp_path, fix_section(port).replace("file_log = false", ""))
    proc, lines, _ = start_serve(config)
    output: list[str] = []
    try:
        while "fix acceptor listening" not in (line := lines.get(timeout=30)):
            output.append(line)
        for n, password in enumerate((WRONG, DESK_KEY)):
            client = FixClient(tmp_path / "clients" / str(n), port, "DESK1", "desk-7-algo",
                               password, file_log=False, qualifier=f"k{n}")  # fmt: skip
            try:
                assert client.start(timeout=10) is (password == DESK_KEY), client.refusal
            finally:
                client.stop()
        stop_serve(proc)
    finally:
        kill_if_running(proc)
    while not lines.empty():
        output.append(lines.get())
    logs = list((tmp_path / "fix" / "log").glob("*.messages.current.log"))
    assert logs, "the message log was not written: nothing was checked"
    text = b"".join(p.read_bytes() for p in logs)
    assert b"\x01553=desk-7-algo\x01" in text  # the Logons themselves are logged
    assert re.findall(rb"\x01554=(\*+)\x01", text), "no redacted Password in the log"
    written = [p for p in (tmp_path / "fix").rglob("*") if p.is_file()]
    for secret in (DESK_KEY, WRONG):
        holders = [p for p in written if secret.encode() in p.read_bytes()]
        assert holders == [], f"{secret!r} written to {holders}"
        assert not any(secret in line for line in output), f"{secret!r} in serve's output"
