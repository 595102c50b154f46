"""Dashboard routes on the admin listener.

    GET  /dashboard          the page (a sign-in form without a session)
    POST /dashboard/login    admin token -> session cookie (session.py)
    POST /dashboard/logout   ends the session
    GET  /dashboard/events   server-sent events: the live panels, once a second
    POST /dashboard/halt     the kill switch: `Gateway.halt`, the same path as `POST /halt`
    POST /dashboard/resume   `Gateway.resume`, the same path as `POST /resume`

Halts and resumes need an operator session and its CSRF token; readers only look. The
stream ends when the client goes (checked each tick) or after `STREAM_S`, and the
browser's EventSource reconnects by itself.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import parse_qs

import anyio
from fastapi import FastAPI, Request
from fastapi.responses import (
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from pydantic import ValidationError

from interlock.api.admin.access import ALLOWED
from interlock.api.admin.models import FleetView, HaltIn, ResumeIn
from interlock.api.bearer import ApiError
from interlock.api.dashboard.page import login_page, page, panels
from interlock.api.dashboard.session import COOKIE, TTL_S, Session, Sessions, csrf_ok, same_origin
from interlock.api.dashboard.snapshot import DecisionTail, build_snapshot
from interlock.domain.reject import RejectCode, Rejection, reject
from interlock.gateway.auth import Authenticator
from interlock.gateway.gateway import Gateway

TICK_S = 1.0
"""How often the stream sends fresh panels."""
STREAM_S = 600.0
"""A stream's longest life; the browser reconnects after it."""
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",  # no other site may frame the kill switch (clickjacking)
    "Content-Security-Policy": "frame-ancestors 'none'",
}
MAX_FORM = 4_096
"""Bytes a dashboard form may hold."""


async def read_form(request: Request) -> dict[str, str]:
    """An urlencoded form's fields (the first of each), bounded; anything else is refused."""
    kind = request.headers.get("content-type", "").split(";")[0].strip()
    body = await request.body()
    if kind != "application/x-www-form-urlencoded" or len(body) > MAX_FORM:
        raise ApiError(422, reject(RejectCode.SCHEMA_INVALID,
                                   "body: an urlencoded form is expected",
                                   f"application/x-www-form-urlencoded, {MAX_FORM} bytes",
                                   kind or "none"))  # fmt: skip
    try:
        fields = parse_qs(body.decode("utf-8"), max_num_fields=8)
    except (UnicodeDecodeError, ValueError):
        raise ApiError(422, reject(RejectCode.SCHEMA_INVALID, "body: not a form")) from None
    return {k: v[0] for k, v in fields.items()}


def add_dashboard_routes(
    app: FastAPI, gateway: Gateway, tokens: Authenticator, fleet: Callable[[], FleetView]
) -> None:
    sessions = Sessions()
    tail = DecisionTail(gateway)

    def snapshot() -> dict[str, Any]:
        return build_snapshot(gateway, fleet, tail)

    def session_of(request: Request) -> Session | None:
        """The caller's session; none once the token it was opened with has expired."""
        sid = request.cookies.get(COOKIE)
        s = sessions.get(sid)
        if s is not None and tokens.expired(s.principal):
            sessions.close(sid)
            return None
        return s

    def operator(request: Request, csrf: str | None) -> Session:
        """The caller's session if it may operate and the post is its own; else refused."""
        s = session_of(request)
        if s is None:
            raise ApiError(401, reject(RejectCode.UNAUTHENTICATED, "dashboard session required",
                                       "sign in at /dashboard", "none"))  # fmt: skip
        if not csrf_ok(s, csrf) or not same_origin(request.headers.get("origin"),
                                                   request.headers.get("host")):  # fmt: skip
            raise ApiError(403, reject(RejectCode.UNAUTHENTICATED,
                                       "cross-site or forged request refused",
                                       "this session's CSRF token and origin"))  # fmt: skip
        if s.principal.role not in ALLOWED["operate"]:
            raise ApiError(403, reject(RejectCode.UNAUTHENTICATED,
                                       f"role {s.principal.role.value} may not operate",
                                       "role operator", s.principal.role.value))  # fmt: skip
        return s

    def schema(exc: ValidationError) -> ApiError:
        where = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        return ApiError(422, reject(RejectCode.SCHEMA_INVALID, where[:300]))

    @app.get("/dashboard", response_class=HTMLResponse, include_in_schema=False)
    async def dashboard(request: Request) -> HTMLResponse:
        s = session_of(request)
        if s is None:
            return HTMLResponse(login_page(), headers=PAGE_HEADERS)
        snap = await anyio.to_thread.run_sync(snapshot)
        return HTMLResponse(page(snap, s.csrf, s.principal.name), headers=PAGE_HEADERS)

    @app.post("/dashboard/login", include_in_schema=False)
    async def login(request: Request) -> Response:
        principal = tokens.identify((await read_form(request)).get("token", ""))
        if isinstance(principal, Rejection):  # unknown, revoked or expired: say which
            text = principal.message
            if principal.code is RejectCode.UNAUTHENTICATED:
                text = reject(RejectCode.UNAUTHENTICATED, "admin token not recognised").message
            return HTMLResponse(login_page(text), 401)
        if not same_origin(request.headers.get("origin"), request.headers.get("host")):
            return HTMLResponse(
                login_page(
                    reject(RejectCode.UNAUTHENTICATED, "cross-site sign-in refused").message
                ),
                403,
            )
        sid, _ = sessions.open(principal)
        out = RedirectResponse("/dashboard", status_code=303)
        out.set_cookie(COOKIE, sid, max_age=TTL_S, path="/dashboard", httponly=True,
                       samesite="strict")  # fmt: skip
        return out

    @app.post("/dashboard/logout", include_in_schema=False)
    def logout(request: Request) -> Response:
        sessions.close(request.cookies.get(COOKIE))
        out = RedirectResponse("/dashboard", status_code=303)
        out.delete_cookie(COOKIE, path="/dashboard")
        return out

    @app.get("/dashboard/events", include_in_schema=False)
    async def events(request: Request) -> StreamingResponse:
        if session_of(request) is None:
            raise ApiError(401, reject(RejectCode.UNAUTHENTICATED, "dashboard session required",
                                       "sign in at /dashboard", "none"))  # fmt: skip

        async def stream() -> AsyncIterator[str]:
            loop = asyncio.get_running_loop()
            end = loop.time() + STREAM_S
            while loop.time() < end and not await request.is_disconnected():
                if session_of(request) is None:
                    return  # signed out or expired: stop sending
                snap = await anyio.to_thread.run_sync(snapshot)
                yield f"data: {json.dumps({'html': panels(snap)})}\n\n"
                await asyncio.sleep(TICK_S)

        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store"})  # fmt: skip

    @app.post("/dashboard/halt", include_in_schema=False)
    async def halt(request: Request) -> JSONResponse:
        form = await read_form(request)
        who = operator(request, form.pop("csrf", None)).principal.name
        try:
            body = HaltIn.model_validate(form)
        except ValidationError as exc:
            raise schema(exc) from None
        r = await anyio.to_thread.run_sync(gateway.halt, body.scope, body.target, body.reason, who)
        return JSONResponse({"summary": str(r), "complete": r.complete,
                             "elapsed_ms": r.elapsed_ms})  # fmt: skip

    @app.post("/dashboard/resume", include_in_schema=False)
    async def resume(request: Request) -> JSONResponse:
        form = await read_form(request)
        who = operator(request, form.pop("csrf", None)).principal.name
        form.pop("reason", None)  # the kill-switch form sends it; a resume has none
        try:
            body = ResumeIn.model_validate(form)
        except ValidationError as exc:
            raise schema(exc) from None
        refusal = gateway.resume_refusal()
        if refusal is not None:
            raise ApiError(503, refusal)
        lifted = await anyio.to_thread.run_sync(gateway.resume, body.scope, body.target, who)
        text = f"resumed {body.scope.value} {body.target}".strip() if lifted else \
            f"no halt on {body.scope.value} {body.target}".strip()  # fmt: skip
        return JSONResponse({"summary": text, "lifted": lifted})
