"""A dashboard session ends when the admin token it was opened with expires: it may not
outlive its credential (nor act: the kill switch refuses it), and the token cannot sign
in again, told why (CREDENTIAL_EXPIRED)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from api.conftest import Stack, _stack
from interlock.api.config import parse_config
from interlock.gateway.config import hash_key
from interlock.sim.harness import around_the_clock

TOKEN = "authmatrix-expiring-token"
LIFETIME_S = 2.0


@pytest.fixture
def expiring(tmp_path: Path) -> Iterator[tuple[Stack, float]]:
    ends = datetime.now(UTC) + timedelta(seconds=LIFETIME_S)
    data = around_the_clock().model_dump(mode="json")
    data["admin"]["tokens"].append({"principal": "ops-expiring", "token_sha256": hash_key(TOKEN),
                                    "not_after": ends.isoformat()})  # fmt: skip
    for stack in _stack(tmp_path, parse_config(data, "dashboard expiry config")):
        yield stack, ends.timestamp()


def test_a_dashboard_session_ends_when_its_token_expires(expiring: tuple[Stack, float]) -> None:
    stack, ends = expiring
    with httpx.Client(base_url=stack.admin.url, timeout=10) as client:
        assert client.post("/dashboard/login", data={"token": TOKEN}).status_code == 303
        found = re.search(r'data-csrf="([^"]+)"', client.get("/dashboard").text)
        assert found is not None, "signed in, the page should carry its CSRF token"
        deadline = time.monotonic() + LIFETIME_S + 10
        while 'name="token"' not in client.get("/dashboard").text:  # back to the sign-in
            assert time.monotonic() < deadline, "the session outlived its token's not_after"
            time.sleep(0.05)
        assert time.time() >= ends, "the session ended before its token expired"
        halt = {"scope": "global", "reason": "after expiry", "csrf": found.group(1)}
        r = client.post("/dashboard/halt", data=halt, headers={"origin": stack.admin.url})
        assert (r.status_code, r.json()["code"]) == (401, "UNAUTHENTICATED")
        assert stack.harness.plane.halts() == []
        again = client.post("/dashboard/login", data={"token": TOKEN})
        assert again.status_code == 401 and "CREDENTIAL_EXPIRED" in again.text
