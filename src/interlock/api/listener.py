"""One ASGI app served by its own uvicorn server, on its own thread and event loop.

Why a thread and loop each: the admin listener must answer while the REST port is
saturated. Separate servers mean separate accept queues, event loops and worker
threadpools (anyio's default limiter is per loop), so a flood of orders cannot queue the
kill switch behind it; only the GIL and the gateway's own lock are shared.

The socket is bound here, before the thread starts, so port 0 resolves to a real port at
once and a bind failure is raised in the caller's thread. With a TLS context (api/tls.py,
built and checked before any listener starts) uvicorn serves HTTPS with it.
"""

from __future__ import annotations

import socket
import ssl
import threading
import time
from typing import Any

import uvicorn


class Listener:
    def __init__(
        self, app: Any, host: str, port: int, name: str, tls: ssl.SSLContext | None = None
    ) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        # proto=IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY on accepted connections only
        # when the proto says TCP, and without it every response waits on a delayed ACK
        # (40 ms a request on Linux loopback).
        self._sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self._sock.bind((host, port))
        except OSError:
            self._sock.close()
            raise
        bound = self._sock.getsockname()  # the address the OS bound, announced as is
        self.host: str = bound[0]
        self.port: int = bound[1]
        self.name = name
        self.tls = tls
        config = uvicorn.Config(
            app,
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=10,
            # the loop and HTTP parser every install runs, named: uvicorn's "auto" would
            # switch to uvloop/httptools where another package pulled them in (the peers
            # extra brings uvloop), and the TCP_NODELAY note above holds for asyncio's loop
            loop="asyncio",
            http="h11",
            # uvicorn's own factory would re-read the files with no TLS floor: ours is
            # already checked and has one (TLS 1.2)
            ssl_context_factory=None if tls is None else (lambda _cfg, _default: tls),
        )
        self.server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self._sock]}, name=name, daemon=True
        )

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        scheme = "https" if self.tls is not None else "http"
        return f"{scheme}://{host}:{self.port}"

    def start(self, timeout: float = 10.0) -> Listener:
        """Start serving; return once the server accepts connections."""
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{self.name} listener did not start on {self.url}")
            time.sleep(0.005)
        return self

    def stop(self, timeout: float = 15.0) -> None:
        """Stop accepting, let requests in flight finish (uvicorn's graceful shutdown)."""
        self.server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout)
        self._sock.close()
