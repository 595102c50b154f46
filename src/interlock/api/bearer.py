"""Bearer credentials shared by the REST and admin listeners: lookup by SHA-256 digest,
and the one error shape both return: `{"code", "message", "limit", "attempted"}`.

Why each listener gets its own `BearerKeys`: the admin listener is built from admin tokens
only and the REST one from API keys only, so a credential of one kind is simply unknown
(401) on the other port; no role check stands between a trading key and the kill switch.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Generic, TypeVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials

T = TypeVar("T")


class ApiError(Exception):
    """A refusal at the HTTP edge: rendered as `{"code", "message", "limit", "attempted"}`."""

    def __init__(
        self, status: int, code: str, message: str, limit: str = "", attempted: str = ""
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body = {"code": code, "message": message, "limit": limit, "attempted": attempted}
        self.headers: dict[str, str] = {"WWW-Authenticate": "Bearer"} if status == 401 else {}


def install_error_handler(app: FastAPI) -> None:
    """Render ApiError, and request bodies that fail their schema, as the one JSON shape."""

    async def handle(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        return JSONResponse(exc.body, status_code=exc.status, headers=exc.headers)

    async def invalid(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        where = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:5]
        )
        body = {
            "code": "SCHEMA_INVALID",
            "message": f"SCHEMA_INVALID: {where}",
            "limit": "the request schema (see /openapi.json)",
            "attempted": "",
        }
        return JSONResponse(body, status_code=422)

    app.add_exception_handler(ApiError, handle)
    app.add_exception_handler(RequestValidationError, invalid)


class BearerKeys(Generic[T]):
    """Who a bearer token is, by its SHA-256 digest; a token seen once is remembered."""

    def __init__(self, by_digest: Iterable[tuple[str, T]]) -> None:
        self._by_digest = dict(by_digest)
        self._known: dict[str, T] = {}

    def lookup(self, token: str) -> T | None:
        found = self._known.get(token)
        if found is None:
            found = self._by_digest.get(hashlib.sha256(token.encode()).hexdigest())
            if found is not None:
                self._known[token] = found
        return found

    def require(self, credentials: HTTPAuthorizationCredentials | None) -> tuple[str, T]:
        """(token, who) for a known bearer token, else a 401 ApiError."""
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise ApiError(401, "UNAUTHENTICATED", "UNAUTHENTICATED: bearer token required",
                           "Authorization: Bearer <key>", "none")  # fmt: skip
        found = self.lookup(credentials.credentials)
        if found is None:
            raise ApiError(401, "UNAUTHENTICATED", "UNAUTHENTICATED: credential not recognised",
                           "a key registered for this listener", "unknown key")  # fmt: skip
        return credentials.credentials, found
