"""The message throttle's windows: every new order, cancel and replace that reaches the
gateway, per session and per instance.

A session is the authenticated principal (a FIX logon's user, a REST API key's
principal): a second session or a second key gets a budget of its own, but every one
of them spends the instance's too, so opening sessions never buys more than that. A
message refused for the throttle itself spends nothing (a client that keeps sending is
held at the limit, not locked out); every other message spends, whatever its decision.
The windows are fed by `Book.apply_message`, from journaled records only (OrderDecided,
CancelRequested), so a restart rebuilds them by the same fold.
"""

from __future__ import annotations

from interlock.domain.reject import RejectCode, Rejection, reject
from interlock.risk.limits import MessageLimits
from interlock.risk.windows import KeyedWindows, SlidingWindow


class MessageThrottle:
    __slots__ = ("instance", "sessions")

    def __init__(self, limits: MessageLimits) -> None:
        self.instance = SlidingWindow(limits.per_instance)
        self.sessions = KeyedWindows(limits.per_session)

    def record(self, session: str, now: int) -> None:
        """One message of `session` at `now` (ns), in both windows."""
        self.instance.stamps.append(now)
        self.sessions.record(session, now)

    def refusal(self, session: str, now: int, what: str) -> Rejection | None:
        """MESSAGE_RATE if one more message of `session` now would pass a window."""
        w = self.instance
        if w.full(now):
            return _reject(f"instance messages ({what})", w, now)
        s = self.sessions.windows.get(session)
        if s is not None and s.full(now):
            return _reject(f"session {session} messages ({what})", s, now)
        return None


def _reject(what: str, w: SlidingWindow, now: int) -> Rejection:
    ms = w.window_ns // 1_000_000
    n = w.in_window(now) + 1
    return reject(
        RejectCode.MESSAGE_RATE,
        f"{what}: {n:,} messages in {ms:,} ms, over limit {w.count:,}",
        limit=f"{w.count}/{ms} ms",
        attempted=n,
    )
