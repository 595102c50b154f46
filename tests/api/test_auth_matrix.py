"""The auth matrix (issue 15) against a real `interlock serve`: every REST and admin
operation (enumerated from each listener's OpenAPI, so a new route cannot escape) times
every kind of credential, and every FIX message type times every kind of session, each
cell asserted against tests/api/auth_expectations.py (written from the roles, not from
the server's answers). The same table is docs/security.md."""

from __future__ import annotations

import queue
import re
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.auth_expectations import (
    ADMIN,
    CONFIG,
    CREDENTIALS,
    DESK_KEY,
    FIX_CONFIG,
    FIX_SESSIONS,
    FIX_TYPES,
    FLAG,
    MM_KEY,
    REST,
    REVOKED,
    Operation,
)
from api.serve_kit import fix_section, kill_if_running, serve_config, start_serve, stop_serve

pytest.importorskip("quickfix")

from interlock.fixengine.engine import new_message
from interlock.sim.fix_client import Fields, FixClient, free_port


@dataclass
class Serve:
    proc: subprocess.Popen[str]
    rest: httpx.Client
    admin: httpx.Client
    fix_port: int
    work: Path


def _wait_for(lines: queue.Queue[str], pattern: str, seen: list[str]) -> str:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = lines.get(timeout=max(0.01, deadline - time.monotonic()))
        seen.append(line)
        if found := re.search(pattern, line):
            return found.group(1)
    raise AssertionError(f"serve never said {pattern!r}: {''.join(seen)[-2000:]}")


@pytest.fixture(scope="module")
def serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Serve]:
    tmp = tmp_path_factory.mktemp("authmatrix")
    port = free_port()
    path = serve_config(tmp, CONFIG + fix_section(port) + FIX_CONFIG)
    revoked = ", ".join(f'"{d}"' for d in REVOKED)
    path.write_text(f"revoked = [{revoked}]\n" + path.read_text())  # a top-level key
    proc, lines, _ = start_serve(path)
    try:
        seen: list[str] = []
        rest = _wait_for(lines, r"rest listening on (http://127\.0\.0\.1:\d+)", seen)
        admin = _wait_for(lines, r"admin listening on (http://127\.0\.0\.1:\d+)", seen)
        _wait_for(lines, r"(fix acceptor listening)", seen)
        with (
            httpx.Client(base_url=rest, timeout=10) as r,
            httpx.Client(base_url=admin, timeout=10) as a,
        ):
            yield Serve(proc, r, a, port, tmp)
        stop_serve(proc)
    finally:
        kill_if_running(proc)


def _operations(client: httpx.Client) -> set[str]:
    spec = client.get("/openapi.json").json()
    return {f"{m.upper()} {p}" for p, ops in spec["paths"].items() for m in ops}


def test_every_route_of_both_listeners_has_an_expectation(serve: Serve) -> None:
    """A route added without a row in the matrix fails here (and a row without a route)."""
    assert _operations(serve.rest) == {op.key for op in REST}
    assert _operations(serve.admin) == {op.key for op in ADMIN}


def _outcome(r: httpx.Response) -> tuple[int, str]:
    code = r.json().get("code", "") if r.status_code >= 400 else ""
    return r.status_code, code


def _call(client: httpx.Client, op: Operation, header: str | None, fill: dict[str, str],
          body: dict[str, Any] | None) -> httpx.Response:  # fmt: skip
    headers = {} if header is None else {"Authorization": header.encode("latin-1")}
    path = op.path.format(**fill) if "{" in op.path else op.path
    return client.request(op.method, path, headers=headers, json=body)


def _run(client: httpx.Client, ops: list[Operation], fill: dict[str, str]) -> list[str]:
    """Every cell of `ops`, in order; the cells that differ from their expectation."""
    wrong: list[str] = []
    for op in ops:
        for n, cred in enumerate(CREDENTIALS):
            body = op.body
            if body is not None and body.get("client_order_id") == "<cell>":
                body = {**body, "client_order_id": f"matrix-{n}", "quantity": 10 + n}
            r = _call(client, op, cred.header, fill, body)
            assert r.status_code < 500, f"{op.key} as {cred.name}: {r.status_code} {r.text}"
            got, want = _outcome(r), op.expect[cred.name]
            if got != want:
                wrong.append(f"{op.key} as {cred.name}: got {got}, want {want}: {r.text[:200]}")
            if op.key == "POST /limits/changes" and r.status_code == 200:
                fill["change_id"] = r.json()["change_id"]
    return wrong


def test_rest_matrix_every_operation_times_every_credential(serve: Serve) -> None:
    desk = {"Authorization": f"Bearer {DESK_KEY}"}
    order = {"client_order_id": "matrix-resting", "account": "desk-7", "strategy": "vwap",
             "symbol": "AAPL", "side": "buy", "quantity": 7, "limit_price": "99.00"}  # fmt: skip
    placed = serve.rest.post("/orders", json=order, headers=desk)
    assert placed.status_code == 201, placed.text
    order_id = str(placed.json()["order_id"])
    mm = {"Authorization": f"Bearer {MM_KEY}"}  # another account's trader sees none of it
    seen = serve.rest.get("/orders", headers=mm)
    assert all(o["account"] != "desk-7" for o in seen.json()), seen.text
    own = serve.rest.get("/orders", headers=desk).json()
    assert order_id in {str(o["order_id"]) for o in own}
    assert any(p["account"] == "desk-7" for p in serve.rest.get("/positions", headers=desk).json())
    assert all(p["account"] != "desk-7" for p in serve.rest.get("/positions", headers=mm).json())
    assert set(serve.rest.get("/limits", headers=mm).json()["accounts"]) == {"mm-1"}
    wrong = _run(serve.rest, REST, {"order_id": order_id})
    assert wrong == [], "\n".join(wrong)


def test_admin_matrix_every_operation_times_every_credential(serve: Serve) -> None:
    wrong = _run(serve.admin, ADMIN, {"name": FLAG})
    assert wrong == [], "\n".join(wrong)
    halts = serve.admin.get("/halts", headers={"Authorization": "Bearer demo-admin-token"})
    assert halts.json() == [], "a refused halt (or the matrix's own) is still in force"


# -- FIX ---------------------------------------------------------------------------------


def _describe(msg: Fields) -> tuple[str, str]:
    """A reply as the table names it: MsgType (and ExecType / MassCancelResponse), and the
    code its Text starts with."""
    kind = msg[35]
    text = msg.get(58, "")
    code = text.split(":", 1)[0] if re.match(r"^[A-Z_]+:", text) else ""
    if kind == "8":
        names = {"0": "new", "4": "cancelled", "5": "replaced", "8": "rejected", "I": "status"}
        return f"8 150={msg[150]} ({names.get(msg[150], '?')})", code
    if kind == "r":
        return f"r 531={msg[531]} ({'rejected' if msg[531] == '0' else 'all cancelled'})", code
    if kind == "9":
        return "9 (cancel reject)", code
    if kind == "j":
        return "j (business reject)", code
    return kind, code


def _send(client: FixClient, kind: str, orig: str, n: int, account: str | None) -> str:
    """Send one message of `kind` about the ClOrdID `orig`; the ClOrdID it carries."""
    cl = f"{'other' if account else 'own'}-{kind}-{n}"
    extra = {} if account is None else {1: account}
    if kind == "D":
        client.new_order(cl, qty=5 + n, price="99.00", extra=extra)
    elif kind == "F":
        client.cancel(cl, orig)
    elif kind == "G":
        client.replace(cl, orig, qty=6 + n, price="98.99")
    else:
        msg = new_message(kind)
        msg.setField(11, orig if kind == "H" else cl)
        if kind == "q":
            msg.setField(530, "7")
            for tag, value in extra.items():
                msg.setField(tag, value)
        if kind == "AF":
            msg.setField(584, cl)
            msg.setField(585, "7")
        client.send(msg)
    return orig if kind == "H" else cl


def _reply(client: FixClient, cl: str, kind: str) -> Fields:
    """The answer to the message carrying ClOrdID `cl` (F's is the report of its cancel,
    G's the replace's), within a deadline."""
    wanted = {"F": {"4", "8"}, "G": {"5", "8"}}.get(kind)

    def matches(m: Fields) -> bool:
        if m.get(11) != cl and m.get(584) != cl:
            return m[35] == "j" and kind == "AF"
        return m[35] != "8" or wanted is None or m.get(150) in wanted

    return client.expect(matches, timeout=10)


def test_fix_matrix_every_message_type_times_every_session(serve: Serve) -> None:
    wrong: list[str] = []
    for s in FIX_SESSIONS[2:]:  # the refused ones first (two are DESK1's): no session opens
        got = _refused_logon(serve, s.name)
        if got != s.logon:
            wrong.append(f"{s.name} logon: got {got}, want {s.logon}")
    desk = _logon(serve, "right session")
    other = _logon(serve, "other account")
    try:
        for n, kind in enumerate(FIX_TYPES):
            pairs = ((FIX_SESSIONS[1], other, "desk-7"), (FIX_SESSIONS[0], desk, None))
            for i, (session, client, account) in enumerate(pairs):
                target = f"own-{n}-{i}"  # a resting desk-7 order the message is about
                desk.new_order(target, qty=50 + 2 * n + i, price="99.00")
                ack = desk.expect(lambda m, t=target: m.get(11) == t and m[35] == "8")
                assert ack[150] == "0", ack
                cl = _send(client, kind, target, 2 * n + i, account)
                got = _describe(_reply(client, cl, kind))
                want = session.messages[kind]
                if got != want:
                    wrong.append(f"{kind} from {session.name}: got {got}, want {want}")
    finally:
        other.stop()
        desk.stop()
    assert wrong == [], "\n".join(wrong)


def _session(serve: Serve, name: str) -> FixClient:
    s = next(s for s in FIX_SESSIONS if s.name == name)
    client = FixClient(serve.work / f"fix-{name.replace(' ', '-')}", serve.fix_port, s.comp_id,
                       s.username, s.password, file_log=False,
                       qualifier=name.replace(" ", "").replace("'", ""))  # fmt: skip
    return client


def _logon(serve: Serve, name: str) -> FixClient:
    client = _session(serve, name)
    assert client.start(timeout=10), f"{name} did not log on"
    return client


def _refused_logon(serve: Serve, name: str) -> tuple[str, str]:
    client = _session(serve, name)
    try:
        if client.start(timeout=3):
            return ("logged on", "")
        if not client.refused.is_set():
            return ("no answer (disconnected)", "")
        # QuickFIX puts "Rejected Logon Attempt: " before the acceptor's own text
        found = re.match(r"^(?:Rejected Logon Attempt: )?([A-Z_]+): ", client.refusal)
        return ("Logout", found.group(1) if found else client.refusal)
    finally:
        client.stop()


def test_no_bearer_credential_opens_the_dashboards_kill_switch(serve: Serve) -> None:
    """The dashboard is not in the OpenAPI: its acting routes need a session, never a
    bearer header, whatever the credential."""
    for cred in CREDENTIALS:
        headers = {} if cred.header is None else {"Authorization": cred.header}
        for path in ("/dashboard/halt", "/dashboard/resume"):
            r = serve.admin.post(path, data={"scope": "global", "reason": "x"}, headers=headers)
            assert (r.status_code, r.json()["code"]) == (401, "UNAUTHENTICATED"), cred.name
    halts = serve.admin.get("/halts", headers={"Authorization": "Bearer demo-admin-token"})
    assert halts.json() == []


MALFORMED = (
    "Bearer",  # no token
    f"Token {DESK_KEY}",  # another scheme, a real key
    DESK_KEY,  # no scheme at all
    f"Bearer {DESK_KEY} {DESK_KEY}",
    f"Bearer {DESK_KEY[:-1]}",  # one character short
    "Bearer " + "k" * 8_000,
    "Bearer \xff\xfe",  # bytes that are not UTF-8 (sent as latin-1)
)


def test_malformed_authorization_headers_are_401_on_every_route(serve: Serve) -> None:
    """Whatever the header's shape, a route that looks at credentials answers 401
    UNAUTHENTICATED (never a 5xx, never the action)."""
    wrong: list[str] = []
    for client, ops in ((serve.rest, REST), (serve.admin, ADMIN)):
        for op in ops:
            if op.public:
                continue
            for header in MALFORMED:
                fill = {"order_id": "1", "name": FLAG, "change_id": "x"}
                r = _call(client, op, header, fill, op.body)
                if _outcome(r) != (401, "UNAUTHENTICATED"):
                    wrong.append(f"{op.key} with {header[:30]!r}: {r.status_code} {r.text[:120]}")
    assert wrong == [], "\n".join(wrong)
