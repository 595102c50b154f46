"""Make a QuickFIX acceptor listen only on the configured address, for real.

QuickFIX C++ 1.16 binds every acceptor to INADDR_ANY (`socket_createAcceptor`) and has no
bind-address setting. Our acceptors are polled from our own thread (engine.Engine), so
between QuickFIX creating its listening socket and anything accepting on it we can swap
it: `AcceptorBinding` first binds and listens on the configured host:port itself (so a
port in use fails before QuickFIX listens anywhere), lets QuickFIX bind a private scratch
port, finds QuickFIX's listening fd by that port in /proc/self/fd, and `dup2`s our socket
over it. QuickFIX then selects and accepts on our socket under its own fd number, and
its 0.0.0.0 socket is closed. What stays exposed: for the microseconds between
QuickFIX's `listen` and the `dup2`, 0.0.0.0 on an unadvertised ephemeral port; a
connection that lands in that window's backlog is reset by the close.

`address` is read back with getsockname: what is announced is what the OS bound.
"""

from __future__ import annotations

import os
import socket


class FixBindError(RuntimeError):
    """The acceptor could not be made to listen on its configured address."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def listening_sockets() -> dict[int, tuple[str, int]]:
    """fd -> (ip, port) of every IPv4/IPv6 listening socket of this process."""
    out: dict[int, tuple[str, int]] = {}
    for name in os.listdir("/proc/self/fd"):
        try:
            if not os.readlink(f"/proc/self/fd/{name}").startswith("socket:"):
                continue
            sock = socket.socket(fileno=int(name))
        except OSError:  # closed meanwhile, or not a socket Python can wrap
            continue
        try:
            if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.getsockopt(
                socket.SOL_SOCKET, socket.SO_ACCEPTCONN
            ):
                host, port = sock.getsockname()[:2]
                out[int(name)] = (str(host), int(port))
        except OSError:
            pass
        finally:
            sock.detach()  # the fd is not ours to close
    return out


class AcceptorBinding:
    """Our listening socket on `host:port`, waiting to replace QuickFIX's (see above)."""

    def __init__(self, host: str, port: int) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        try:
            self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._sock.bind((host, port))
            self._sock.listen(socket.SOMAXCONN)
            self._sock.setblocking(False)  # QuickFIX selects, then accepts: never block
        except OSError as exc:
            self._sock.close()
            raise FixBindError(f"FIX acceptor cannot listen on {host}:{port}: {exc}") from exc
        self.requested = (host, port)
        self.scratch_port = _free_port()  # where QuickFIX binds 0.0.0.0, briefly
        self.address: tuple[str, int] | None = None

    def take_over(self) -> tuple[str, int]:
        """Put our socket under QuickFIX's listening fd; return the address bound."""
        fds = [fd for fd, (_, p) in listening_sockets().items() if p == self.scratch_port]
        if len(fds) != 1:
            self.close()
            raise FixBindError(
                f"QuickFIX's listening socket on port {self.scratch_port} not found "
                f"({len(fds)} candidates): refusing to run on 0.0.0.0"
            )
        os.dup2(self._sock.fileno(), fds[0])  # closes QuickFIX's 0.0.0.0 socket
        self._sock.close()  # fds[0] keeps our socket open
        probe = socket.socket(fileno=os.dup(fds[0]))
        try:
            host, port = probe.getsockname()[:2]
        finally:
            probe.close()
        self.address = (str(host), int(port))
        return self.address

    def close(self) -> None:
        """Release our socket if it was never handed to QuickFIX."""
        if self.address is None:
            self._sock.close()
