"""FIX over TLS: TLS terminated in-process, in front of QuickFIX's plain acceptor.

Why not QuickFIX's own SSLSocketAcceptor (the installed build has one, and it works): it
runs each TLS handshake to completion inside the acceptor's single poll, retrying for up
to 10 s (`SSLSocketAcceptor::newConnection`), so one TCP connection that sends nothing
stalls every FIX session of the process (logons, heartbeats, orders) for 10 s, and an
attacker reconnecting every 10 s stalls it for good. Here asyncio does the handshakes,
each with its own deadline and none blocking another, with the same server context
(api/tls.py: TLS 1.2 floor, client certificates when `tls_ca` is set) as REST and admin;
a connection that completes its handshake is piped, byte for byte, to QuickFIX's plain
acceptor on the same host at a private port. QuickFIX still does all of FIX (logon,
sequence numbers, sessions); only the wire is ours.

What it costs: one more loopback hop and a copy per message; QuickFIX sees every peer as
this host. The private port is plain FIX on the configured (loopback by default) address:
a local process could reach it without TLS, never without a FIX logon's API key.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
import threading

_log = logging.getLogger(__name__)

HANDSHAKE_S = 5.0  # a client that has not finished its TLS handshake by then is dropped
_CHUNK = 65_536


class TlsFront:
    """A TLS listener on `host:port` piping each connection to `target` (QuickFIX)."""

    def __init__(self, host: str, port: int, context: ssl.SSLContext) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        try:
            self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self._sock.bind((host, port))
            self._sock.listen(socket.SOMAXCONN)
        except OSError:
            self._sock.close()
            raise
        bound = self._sock.getsockname()
        self.address: tuple[str, int] = (str(bound[0]), int(bound[1]))
        self._context = context
        self._target: tuple[str, int] | None = None
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fix-tls-front", daemon=True)

    def start(self, target: tuple[str, int], timeout: float = 10.0) -> None:
        """Accept TLS connections and pipe them to `target`; return once accepting."""
        self._target = target
        self._thread.start()
        if not self._started.wait(timeout):
            raise RuntimeError(f"FIX TLS front on {self.address} did not start")

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._open())
        self._started.set()
        self._loop.run_forever()
        self._loop.close()

    async def _open(self) -> None:
        self._server = await asyncio.start_server(
            self._handle, sock=self._sock, ssl=self._context, ssl_handshake_timeout=HANDSHAKE_S
        )

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None and self._target is not None
        self._pipes.add(task)
        try:
            up_reader, up_writer = await asyncio.open_connection(*self._target)
        except OSError as exc:
            _log.error("FIX TLS front: QuickFIX at %s refused: %s", self._target, exc)
            writer.close()
            self._pipes.discard(task)
            return
        up = up_writer.get_extra_info("socket")
        if up is not None:
            up.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        finally:
            self._pipes.discard(task)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop accepting, drop every piped connection, end the loop's thread."""
        if not self._thread.is_alive():
            self._sock.close()
            return

        async def close() -> None:
            if self._server is not None:
                self._server.close()
            for task in list(self._pipes):
                task.cancel()
            await asyncio.sleep(0)

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(close(), self._loop).result(timeout)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout)
        self._sock.close()


async def _pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
    """Copy `src` to `dst` until either side ends; then close `dst` (the other pipe sees
    its end next)."""
    try:
        while data := await src.read(_CHUNK):
            dst.write(data)
            await dst.drain()
    except (OSError, ssl.SSLError):
        pass
    finally:
        with contextlib.suppress(OSError, ssl.SSLError, RuntimeError):
            dst.close()
