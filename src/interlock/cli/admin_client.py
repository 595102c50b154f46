"""The CLI's side of the admin listener: where it is, the operator's token, one call.

`interlock fleet ...` and `interlock flags ...` act on the running control plane through
any live member's admin port (`--admin URL`, or INTERLOCK_ADMIN_URL) with an admin token
(`--token`, or INTERLOCK_ADMIN_TOKEN; sent as a bearer token, never printed). httpx is
imported only when a command calls.

Exit codes: 0 done; 1 refused, with the listener's `CODE: reason` printed (a wrong token,
a reader token on a change, the plane's refusal); 2 usage, or no admin listener answered
(a clear message, never a traceback).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.text import Text

from interlock.cli.common import fail

AdminUrl = Annotated[
    str,
    typer.Option("--admin", envvar="INTERLOCK_ADMIN_URL", show_default=False,
                 help="A live member's admin listener, e.g. http://127.0.0.1:8641."),
]  # fmt: skip
AdminToken = Annotated[
    str,
    typer.Option("--token", envvar="INTERLOCK_ADMIN_TOKEN", show_default=False,
                 help="An admin bearer token (operator, or reader for views)."),
]  # fmt: skip
TIMEOUT_S = 30.0  # a halt waits for confirmations (fleet.halt_confirm_ms) before answering


def _untrusted(exc: BaseException) -> bool:
    """An HTTPS call failed verifying the server's certificate (the cause httpx wraps)."""
    import ssl

    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            return False
        if isinstance(seen, ssl.SSLCertVerificationError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def usage(out: Console, message: str) -> typer.Exit:
    """Print `message` and return the exit (code 2) for the caller to raise."""
    out.print(Text(message, style="bold red"), soft_wrap=True)
    return typer.Exit(2)


class Admin:
    """Calls on one admin listener as one token; each answer is its JSON, or an exit."""

    def __init__(self, out: Console, url: str, token: str) -> None:
        if not url:
            raise usage(out, "no admin listener: pass --admin URL or set INTERLOCK_ADMIN_URL")
        if not token:
            raise usage(out, "no admin token: pass --token or set INTERLOCK_ADMIN_TOKEN")
        if not url.startswith(("http://", "https://")):
            raise usage(out, f"--admin must be an http:// or https:// URL, not {url!r}")
        self.out = out
        self.url = url.rstrip("/")
        self._token = token

    def get(self, path: str) -> Any:
        return self._call("GET", path, None)

    def post(self, path: str, body: Mapping[str, object] | None = None) -> Any:
        return self._call("POST", path, dict(body or {}))

    def _call(self, method: str, path: str, body: Mapping[str, object] | None) -> Any:
        import httpx

        headers = {"Authorization": f"Bearer {self._token}"}
        try:
            r = httpx.request(method, self.url + path, json=body, headers=headers,
                              timeout=TIMEOUT_S)  # fmt: skip
        except httpx.HTTPError as exc:
            if _untrusted(exc):
                raise usage(self.out, f"the admin listener at {self.url} has a TLS certificate "
                                      "this machine does not trust: set SSL_CERT_FILE to the "
                                      "CA bundle that signed it") from None  # fmt: skip
            kind = type(exc).__name__
            raise usage(self.out, f"no admin listener answered at {self.url} ({kind})") from None
        except UnicodeError:  # a token that is not ASCII cannot be a header
            raise usage(self.out, "the admin token must be ASCII text") from None
        try:
            data = r.json()
        except ValueError:
            raise usage(self.out, f"{self.url} is not an Interlock admin listener "
                                  f"(HTTP {r.status_code}, not JSON)") from None  # fmt: skip
        if r.is_success:
            return data
        if isinstance(data, dict) and isinstance(data.get("message"), str):
            raise fail(self.out, data["message"])
        raise usage(self.out, f"{self.url} is not an Interlock admin listener "
                              f"(HTTP {r.status_code})")  # fmt: skip
