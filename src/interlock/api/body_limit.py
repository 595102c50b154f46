"""A bound on request bodies, for the REST and admin listeners: over `MAX_BODY_BYTES` is 413
BODY_TOO_LARGE in the one error shape, before the body is read, or as soon as a chunked
body passes the bound.

Why: uvicorn and FastAPI read a whole body into memory before any schema sees it, so an
8 MB (or 8 GB) body to POST /orders was read, parsed and only then refused 422 for its
field lengths. The largest body either listener accepts is far smaller (a deploy's
`source`: 64 paths of at most 4,096 characters, 256 KiB), so 1 MiB refuses nothing real.
Pure ASGI, so it runs before FastAPI touches the request.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from interlock.api.bearer import ApiError
from interlock.domain.reject import RejectCode, reject

MAX_BODY_BYTES = 1_048_576


def _too_large(attempted: str) -> ApiError:
    return ApiError(413, reject(RejectCode.BODY_TOO_LARGE,
                                f"request body over {MAX_BODY_BYTES:,} bytes",
                                f"{MAX_BODY_BYTES:,} bytes", attempted))  # fmt: skip


async def _answer(send: Send, error: ApiError) -> None:
    body = json.dumps(error.body).encode()
    await send({"type": "http.response.start", "status": error.status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})  # fmt: skip
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """ASGI middleware: 413 for a declared `Content-Length` over the bound, or a streamed
    body that passes it (the app then sees the client gone, and its answer is dropped)."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (
            not declared.isdigit() or len(declared) > 18 or int(declared) > self.max_bytes
        ):  # 18 digits: int() of a header thousands of digits long would raise
            await _answer(send, _too_large(f"{declared[:20].decode(errors='replace')} bytes"))
            return
        seen = 0
        refused = False

        async def limited() -> Message:
            nonlocal seen, refused
            message = await receive()
            if message["type"] == "http.request" and not refused:
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    refused = True
                    await _answer(send, _too_large(f"more than {seen:,} bytes"))
                    return {"type": "http.disconnect"}
            return message

        async def guarded(message: Message) -> None:
            if not refused:
                await send(message)

        await self.app(scope, limited, guarded)
