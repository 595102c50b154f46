"""Dashboard sign-in: an admin token exchanged once for a session cookie, and CSRF.

A browser cannot send a bearer header on a page load, so `POST /dashboard/login` takes
the admin token in a form, checks it against the admin listener's own authenticator (a
trading key is unknown there) and sets `interlock_session`: random, HttpOnly,
SameSite=Strict, path /dashboard, expiring with the session. Each session has its own
CSRF token, embedded in the page; a state-changing post must carry it and, when the
browser sends an Origin, come from this listener's own origin.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from dataclasses import dataclass

from interlock.gateway.auth import Principal

COOKIE = "interlock_session"
TTL_S = 8 * 3600
"""A session lasts one shift at most."""
MAX_SESSIONS = 1_000
"""Sign-ins kept at once; the oldest goes first beyond it."""


@dataclass(frozen=True)
class Session:
    principal: Principal
    csrf: str
    expires: float


class Sessions:
    """Live sessions by their cookie value (random, never derived from the token)."""

    def __init__(self) -> None:
        self._by_id: dict[str, Session] = {}
        self._lock = threading.Lock()

    def open(self, principal: Principal) -> tuple[str, Session]:
        sid = secrets.token_urlsafe(32)
        session = Session(principal, secrets.token_urlsafe(32), time.monotonic() + TTL_S)
        with self._lock:
            if len(self._by_id) >= MAX_SESSIONS:
                self._by_id.pop(next(iter(self._by_id)))
            self._by_id[sid] = session
        return sid, session

    def get(self, sid: str | None) -> Session | None:
        if not sid:
            return None
        with self._lock:
            s = self._by_id.get(sid)
            if s is not None and s.expires < time.monotonic():
                del self._by_id[sid]
                return None
            return s

    def close(self, sid: str | None) -> None:
        with self._lock:
            self._by_id.pop(sid or "", None)


def csrf_ok(session: Session, sent: str | None) -> bool:
    return sent is not None and hmac.compare_digest(session.csrf, sent)


def same_origin(origin: str | None, host: str | None) -> bool:
    """No Origin header (a same-origin form on some browsers) passes; else it must be ours."""
    if origin is None:
        return True
    return host is not None and origin in (f"http://{host}", f"https://{host}")
