"""Bearer credentials shared by the REST and admin listeners: a token resolved to a
`Principal` through an `Authenticator` (gateway/auth.py), and the one error shape both
return: `{"code", "message", "limit", "attempted"}`.

Why each listener has its own authenticator: the REST one is the gateway's (API keys and
REST's read-only keys), the admin one is built from admin tokens only, so a credential of
one kind is simply unknown (401) on the other port; no role check stands between a
trading key and the kill switch.
"""

from __future__ import annotations

from collections.abc import Iterable

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from interlock.domain.reject import RejectCode, Rejection, reject, render
from interlock.errors import ControlPlaneError
from interlock.gateway.auth import Authenticator, Principal


class ApiError(Exception):
    """A refusal at the HTTP edge: a `Rejection` with its status, rendered as the body
    `{"code", "message", "limit", "attempted"}`, so `message` always starts with `code`."""

    def __init__(self, status: int, rejection: Rejection) -> None:
        super().__init__(rejection.message)
        self.status = status
        self.body = _body(rejection)
        self.headers: dict[str, str] = {"WWW-Authenticate": "Bearer"} if status == 401 else {}


def _body(r: Rejection) -> dict[str, str]:
    return {
        "code": r.code.value,
        "message": r.message,
        "limit": render(r.limit),
        "attempted": render(r.attempted),
    }


def _loc(parts: Iterable[object]) -> str:
    """A validation error's location, bounded: a field name is the caller's text."""
    where = ".".join(str(p) for p in parts)
    return where if len(where) <= 80 else where[:77] + "..."


SCHEMA_LIMIT = "the request schema (see /openapi.json)"
# Starlette's own refusals (no route, wrong method, a body it cannot parse) in our shape.
_HTTP_CODES = {
    400: RejectCode.SCHEMA_INVALID,
    404: RejectCode.NOT_FOUND,
    405: RejectCode.METHOD_NOT_ALLOWED,
}


def install_error_handler(app: FastAPI) -> None:
    """Render every refusal as the one JSON shape: ApiError, request bodies that fail their
    schema or cannot be parsed at all, Starlette's own HTTP errors, and (never expected)
    an unhandled fault, which answers 500 INTERNAL_ERROR without detail."""

    async def handle(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        return JSONResponse(exc.body, status_code=exc.status, headers=exc.headers)

    async def invalid(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = exc.errors()
        where = "; ".join(f"{_loc(e['loc'])}: {e['msg']}" for e in errors[:5])
        shown = ascii(errors[0].get("input")) if errors else ""  # escaped: the caller's text
        attempted = shown if len(shown) <= 80 else shown[:77] + "..."
        refusal = reject(RejectCode.SCHEMA_INVALID, where, SCHEMA_LIMIT, attempted)
        return JSONResponse(_body(refusal), 422)

    async def http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        code = _HTTP_CODES.get(exc.status_code, RejectCode.HTTP_ERROR)
        if code is RejectCode.SCHEMA_INVALID:  # invalid UTF-8, too deep, a number too long
            refusal = reject(code, "body: not parsable JSON", SCHEMA_LIMIT)
            return JSONResponse(_body(refusal), 422)
        detail = exc.detail if isinstance(exc.detail, str) else ""
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(allowed_methods(request))
        return JSONResponse(
            _body(reject(code, detail or f"HTTP {exc.status_code}")),
            exc.status_code,
            headers=headers,
        )

    async def fault(_: Request, exc: Exception) -> JSONResponse:
        text = "the request could not be handled; nothing was decided"
        return JSONResponse(_body(reject(RejectCode.INTERNAL_ERROR, text)), 500)

    async def plane_down(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ControlPlaneError)
        return JSONResponse(_body(reject(RejectCode.CONTROL_PLANE_ERROR, str(exc)[:500])), 503)

    app.add_exception_handler(ApiError, handle)
    app.add_exception_handler(ControlPlaneError, plane_down)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(StarletteHTTPException, http)
    app.add_exception_handler(Exception, fault)


def allowed_methods(request: Request) -> list[str]:
    """Every method some route of the app serves at the request's path. Starlette's own
    405 names only the first route that matched the path, so a path served by two routes
    (GET and DELETE /orders/{order_id}) answered `Allow: GET`: a client told DELETE is not
    allowed where it is (RFC 9110: Allow lists the methods the resource supports)."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        match, _ = route.matches({**request.scope, "method": "GET"})
        if match is not Match.NONE:
            methods |= getattr(route, "methods", None) or set()
    return sorted(methods)


def bearer_principal(
    auth: Authenticator, credentials: HTTPAuthorizationCredentials | None
) -> Principal:
    """Who a bearer token is, resolved once through `auth`; else a 401 ApiError:
    UNAUTHENTICATED, CREDENTIAL_REVOKED or CREDENTIAL_EXPIRED."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise ApiError(401, reject(RejectCode.UNAUTHENTICATED, "bearer token required",
                                   "Authorization: Bearer <key>", "none"))  # fmt: skip
    found = auth.identify(credentials.credentials)
    if isinstance(found, Rejection):  # unknown, revoked or expired: the same 401
        raise ApiError(401, found)
    return found
