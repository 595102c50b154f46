"""A FIX session stays logged on past its key's `not_after`, but from that instant it
trades no more: a real serve rejects the session's next order CREDENTIAL_EXPIRED."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from api.serve_kit import fix_section, kill_if_running, serve_config, start_serve, stop_serve
from interlock.gateway.config import hash_key

pytest.importorskip("quickfix")

from interlock.sim.fix_client import FixClient, free_port

KEY = "authmatrix-session-key"
LIFETIME_S = 12.0  # serve starts, the session logs on and trades once before this


def test_a_session_whose_key_expires_has_its_next_order_rejected(tmp_path: Path) -> None:
    ends = datetime.now(UTC) + timedelta(seconds=LIFETIME_S)
    port = free_port()
    extra = f"""
[[api_keys]]
principal = "desk-7-expiring"
key_sha256 = "{hash_key(KEY)}"
accounts = ["desk-7"]
not_after = "{ends.isoformat()}"
"""
    section = (
        fix_section(port).replace('"DESK1"', '"EXPS"').replace("desk-7-algo", "desk-7-expiring")
    )
    proc, lines, _ = start_serve(serve_config(tmp_path, extra + section))
    client = FixClient(tmp_path / "desk", port, "EXPS", "desk-7-expiring", KEY, file_log=False)
    try:
        while "fix acceptor listening" not in lines.get(timeout=30):
            pass
        assert client.start(timeout=10), "the key is still valid: the session logs on"
        client.new_order("before", qty=10, price="99.00")
        first = client.expect(lambda m: m.get(11) == "before" and m[35] == "8", timeout=10)
        assert time.time() < ends.timestamp(), "serve was too slow to start: nothing tested"
        assert first[150] == "0", first
        while time.time() < ends.timestamp():  # the wall clock is the condition here
            time.sleep(min(0.2, max(0.0, ends.timestamp() - time.time())))
        client.new_order("after", qty=11, price="99.00")
        late = client.expect(lambda m: m.get(11) == "after" and m[35] == "8", timeout=10)
        assert late[150] == "8" and late[58].startswith("CREDENTIAL_EXPIRED: "), late
        assert client.logged_on.is_set()  # the session itself stays up; it just trades no more
        client.stop()
        stop_serve(proc)
    finally:
        kill_if_running(proc)
