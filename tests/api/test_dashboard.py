"""The dashboard over real HTTP on the admin listener: sign-in, who may act, CSRF,
escaping, the kill switch through the gateway's own halt and resume, and the stream."""

from __future__ import annotations

import html
import json
import re
import time
from contextlib import closing

import httpx
import pytest

from api.conftest import ADMIN_TOKEN, DESK_KEY, RISK_KEY, Stack, bearer
from interlock.api.dashboard.page import panels
from interlock.api.dashboard.session import COOKIE

FORM = {"content-type": "application/x-www-form-urlencoded"}


def _sign_in(stack: Stack, token: str = ADMIN_TOKEN) -> tuple[httpx.Client, str]:
    """A client holding a dashboard session, and the page's CSRF token."""
    client = httpx.Client(base_url=stack.admin.url, timeout=10)
    r = client.post("/dashboard/login", data={"token": token})
    assert r.status_code == 303, r.text
    page = client.get("/dashboard").text
    csrf = re.search(r'data-csrf="([^"]+)"', page)
    assert csrf is not None, page
    return client, csrf.group(1)


def test_without_a_session_the_page_asks_for_a_token_and_nothing_can_halt(stack: Stack) -> None:
    c = stack.admin_client
    page = c.get("/dashboard")
    assert page.status_code == 200 and 'name="token"' in page.text and "data-csrf" not in page.text
    assert page.headers["x-frame-options"] == "DENY"  # no framing of the kill switch
    assert c.get("/dashboard/events").status_code == 401
    r = c.post("/dashboard/halt", data={"scope": "global", "reason": "x", "csrf": "guess"})
    assert (r.status_code, r.json()["code"]) == (401, "UNAUTHENTICATED")
    assert stack.harness.plane.halts() == []


def test_trading_and_rest_keys_cannot_sign_in(stack: Stack) -> None:
    for key in (DESK_KEY, RISK_KEY, "", "nonsense"):
        r = stack.admin_client.post("/dashboard/login", data={"token": key})
        assert r.status_code == 401, key
        assert COOKIE not in r.cookies and "not recognised" in r.text


def test_session_cookie_is_httponly_and_same_site_strict(stack: Stack) -> None:
    r = stack.admin_client.post("/dashboard/login", data={"token": ADMIN_TOKEN})
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/dashboard" in cookie
    assert ADMIN_TOKEN not in r.headers["set-cookie"]


def test_a_forged_cross_site_post_is_refused_and_halts_nothing(stack: Stack) -> None:
    client, csrf = _sign_in(stack)
    with closing(client):
        body = {"scope": "global", "reason": "forged"}
        no_token = client.post("/dashboard/halt", data=body)
        wrong = client.post("/dashboard/halt", data={**body, "csrf": csrf[:-1] + "x"})
        other_site = client.post("/dashboard/halt", data={**body, "csrf": csrf},
                                 headers={"origin": "http://evil.example"})  # fmt: skip
        for r in (no_token, wrong, other_site):
            assert (r.status_code, r.json()["code"]) == (403, "UNAUTHENTICATED"), r.text
        assert stack.harness.plane.halts() == []


def test_dashboard_halt_stops_orders_and_resume_lifts_it(stack: Stack) -> None:
    client, csrf = _sign_in(stack)
    with closing(client):
        r = client.post("/dashboard/halt",
                        data={"scope": "account", "target": "desk-7", "reason": "ops drill",
                              "csrf": csrf})  # fmt: skip
        assert r.status_code == 200, r.text
        assert re.fullmatch(r"1/1 halted in [\d.,]+ ms.*", r.json()["summary"])
        assert [h.target for h in stack.harness.plane.halts()] == ["desk-7"]
        assert stack.post(stack.order()).json()["code"] == "HALTED"
        page = client.get("/dashboard").text
        assert "ops drill" in page and "1/1 confirmed" in page
        r = client.post("/dashboard/resume",
                        data={"scope": "account", "target": "desk-7", "csrf": csrf})  # fmt: skip
        assert r.json() == {"summary": "resumed account desk-7", "lifted": True}
        assert stack.harness.plane.halts() == []
        assert stack.post(stack.order()).status_code == 201


def test_bad_halt_input_gets_a_stable_code(stack: Stack) -> None:
    client, csrf = _sign_in(stack)
    with closing(client):
        bad = client.post("/dashboard/halt", data={"scope": "galaxy", "reason": "x", "csrf": csrf})
        assert (bad.status_code, bad.json()["code"]) == (422, "SCHEMA_INVALID")
        no_target = client.post("/dashboard/halt",
                                data={"scope": "symbol", "reason": "x", "csrf": csrf})  # fmt: skip
        assert no_target.json()["code"] == "SCHEMA_INVALID"
        as_json = client.post("/dashboard/halt", json={"scope": "global", "csrf": csrf})
        assert as_json.json()["code"] == "SCHEMA_INVALID"
        assert stack.harness.plane.halts() == []


def test_values_from_halts_and_lines_are_escaped(stack: Stack) -> None:
    evil = "<script>alert(1)</script>"
    halt = {"scope": "symbol", "target": evil, "reason": evil}
    r = stack.admin_client.post("/halt", headers=bearer(ADMIN_TOKEN), json=halt)
    assert r.status_code == 200, r.text
    client, _ = _sign_in(stack)
    with closing(client):
        page = client.get("/dashboard").text
    assert evil not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    snap = {
        "fleet": {"epoch": 1, "build_digest": evil, "flag_digest": "", "this_instance": evil,
                  "members": [{"instance_id": evil, "host": evil, "build_digest": evil,
                               "gate": "attested", "lease_left_ms": 900}]},
        "readiness": {"gate": "routing", "journal": "available", "durable_seq": 1,
                      "lease_left_ms": 900, "journal_failure": "",
                      "preopen": {"ready": False, "blocked": True, "summary": evil,
                                  "causes": [{"check": evil, "text": evil}]}},
        "halts": [],
        "lines": [{"account": evil, "symbol": evil, "position": 1, "open_buy": 0,
                   "open_sell": 0, "limit": 10, "worst": 1, "utilisation_pct": 10}],
        "rates": {evil: 1},
        "trips": [{"detector": evil, "scope": "account", "target": evil, "reason": evil,
                   "report": evil}],
    }  # fmt: skip
    assert "<script" not in panels(snap)


def test_the_stream_sends_fresh_panels_as_orders_arrive(stack: Stack) -> None:
    client, _ = _sign_in(stack)
    with closing(client), client.stream("GET", "/dashboard/events") as events:
        data = (json.loads(x[6:])["html"] for x in events.iter_lines() if x.startswith("data: "))
        assert "no orders in the last minute" in next(data)
        assert stack.post(stack.order()).status_code == 201
        deadline = time.monotonic() + 10
        for html in data:  # one rendering a second, until it shows the order or the deadline
            assert time.monotonic() < deadline, "the accepted order never showed in the stream"
            if re.search(r'data-code="ACCEPTED"><td>ACCEPTED</td><td class="n">1<', html):
                assert 'data-line="desk-7/AAPL"' in html
                break
        else:
            raise AssertionError("the stream ended before the accepted order showed")


def test_the_readiness_panel_shows_the_pre_open_gates_causes(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    gw = stack.harness.gateway
    monkeypatch.setattr(gw.venue, "logged_on", False, raising=False)  # the session is down
    look = gw.preopen.look()  # the same verdict /health and /preopen show
    assert not look.ready and look.causes
    client, _ = _sign_in(stack)
    with closing(client):
        page = client.get("/dashboard").text
    assert 'id="preopen" class="stale"' in page
    assert html.escape(look.summary()) in page
    for cause in look.causes:
        assert html.escape(cause.text) in page
