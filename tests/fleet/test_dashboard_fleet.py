"""The dashboard on a three-member fleet: every member listed, a halt confirmed by all
three ("3/3 halted"), and a reader session that may look but never halt."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import closing

import httpx
import pytest
from admin_rig import OPERATOR, READER, Rig, running_fleet


@pytest.fixture
def rig() -> Iterator[Rig]:
    yield from running_fleet()


def _session(rig: Rig, token: str) -> tuple[httpx.Client, str]:
    client = httpx.Client(base_url=rig.url, timeout=10)
    assert client.post("/dashboard/login", data={"token": token}).status_code == 303
    found = re.search(r'data-csrf="([^"]+)"', client.get("/dashboard").text)
    assert found is not None
    return client, found.group(1)


def test_a_reader_session_sees_the_fleet_but_cannot_halt(rig: Rig) -> None:
    client, csrf = _session(rig, READER)
    with closing(client):
        page = client.get("/dashboard").text
        for member in ("gw-1", "gw-2", "gw-3"):
            assert f'data-member="{member}"' in page
        r = client.post("/dashboard/halt", data={"scope": "global", "reason": "x", "csrf": csrf})
        assert (r.status_code, r.json()["code"]) == (403, "UNAUTHENTICATED")
        assert "reader may not operate" in r.json()["message"]
    assert rig.fleet.plane.halts() == []


def test_an_operator_halt_is_confirmed_by_every_member(rig: Rig) -> None:
    client, csrf = _session(rig, OPERATOR)
    with closing(client):
        r = client.post("/dashboard/halt",
                        data={"scope": "global", "reason": "drill", "csrf": csrf})  # fmt: skip
        assert r.status_code == 200, r.text
        assert r.json()["summary"].startswith("3/3 halted in ")
        assert "3/3 confirmed" in client.get("/dashboard").text
