"""A deadline on a FIX connection's first message: QuickFIX waits for it holding everyone.

QuickFIX 1.16's `SocketAcceptor` reads the first message of a new connection (the one that
names its session) in a loop of blocking one-fd `poll`s, each up to a second, until the message
is whole. The acceptor has one thread for every connection, so while one peer sends a
Logon a byte at a time (a slow-loris; found by the FIX fuzz, sim/fix_fuzz_run.py) every
logged-on session waits: no report, no heartbeat, for as long as the bytes keep coming.

The guard watches the acceptor's poll thread from a thread of its own. When one `poll()`
of the acceptor has lasted longer than `limit_s` and the thread sits in the syscall
`poll` on one fd (read from /proc/self/task/<tid>/syscall, the pollfd from the thread's
stack), a TCP connection, the guard shuts that connection down: QuickFIX's wait wakes,
its recv sees the end, and it drops the peer as any closed connection. A logged-on session is
never read this way, so only a connection still owing its first message is ever closed.
Linux x86_64 only (as bind.py is Linux only): elsewhere this guard finds nothing.
"""

from __future__ import annotations

import ctypes
import logging
import os
import platform
import socket
import time

_log = logging.getLogger(__name__)

# poll (x86_64): QuickFIX's first-message wait is poll(&one_fd, 1, 1000). Only that call
# with a timeout is taken: a send's poll (timeout 0) on a logged-on session is never.
_POLL = {"x86_64": 7}.get(platform.machine())
_SETTLE_S = 0.01  # the wait must be seen twice this far apart: a 0 ms poll never is


def _syscall(tid: int) -> list[str]:
    try:
        with open(f"/proc/self/task/{tid}/syscall") as f:
            return f.read().split()
    except OSError:
        return []


def blocked_poll_fd(tid: int) -> int | None:
    """The fd thread `tid` waits on in a one-fd `poll` with a timeout, else None. The
    pollfd is read from the thread's stack (this process's memory) between two reads of
    the syscall `_SETTLE_S` apart: the same call with the same arguments both times means
    the thread sat in it throughout, so the fd read is the one it waits on."""
    parts = _syscall(tid)
    if _POLL is None or len(parts) < 4 or parts[0] != str(_POLL):
        return None
    if int(parts[2], 16) != 1 or int(parts[3], 16) == 0:  # one fd, a real wait
        return None
    address = int(parts[1], 16)
    if not address:
        return None
    time.sleep(_SETTLE_S)
    if _syscall(tid)[:4] != parts[:4]:
        return None
    fd = ctypes.c_int.from_address(address).value  # struct pollfd { int fd; ... }
    return fd if _syscall(tid)[:4] == parts[:4] and fd >= 0 else None


def close_connection(fd: int) -> str | None:
    """Shut down the TCP connection under `fd` (never a listening socket); its peer."""
    try:
        sock = socket.socket(fileno=os.dup(fd))
    except OSError:
        return None
    try:
        if sock.family not in (socket.AF_INET, socket.AF_INET6) or sock.type != socket.SOCK_STREAM:
            return None
        if sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN):
            return None
        peer = sock.getpeername()
        sock.shutdown(socket.SHUT_RDWR)  # the socket itself, under QuickFIX's fd too
        return f"{peer[0]}:{peer[1]}"
    except OSError:
        return None
    finally:
        sock.close()  # our dup only


def enforce(tid: int, polling_for_s: float, limit_s: float) -> str | None:
    """Close the connection the poll thread `tid` has waited on past `limit_s`; its peer."""
    if polling_for_s <= limit_s:
        return None
    fd = blocked_poll_fd(tid)
    if fd is None:
        return None
    peer = close_connection(fd)
    if peer is not None:
        _log.warning("FIX connection from %s sent no whole first message within %.1f s: "
                     "closed", peer, limit_s,
                     extra={"event": "fix.first_message_timeout", "peer": peer})  # fmt: skip
    return peer


# -- a deadline on the Logon ----------------------------------------------------------------

_TCP_INFO_LEN = 232  # struct tcp_info up to tcpi_bytes_received; bytes_acked is at 120
_BYTES_ACKED = slice(120, 128)


def _never_answered(sock: socket.socket) -> bool:
    """Nothing was ever sent on `sock` (tcpi_bytes_acked 0): no Logon, no Logout."""
    try:
        info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, _TCP_INFO_LEN)
    except OSError:
        return False
    return len(info) >= _BYTES_ACKED.stop and int.from_bytes(info[_BYTES_ACKED], "little") == 0


class LogonDeadline:
    """Closes connections to `port` that got no word from us `limit_s` after we first saw
    them. QuickFIX ties a connection to its session on its first message and keeps it
    tied while it waits for a Logon it can take; a Logon it can neither take nor refuse
    (a field with no value: found by the fuzz) left the connection open and the session
    held, so every later Logon of that CompID, the desk's own, was turned away: a desk
    locked out by anyone knowing its CompID. A session we answered (Logon or Logout) has
    had bytes from us and is never touched; one we never answered is closed."""

    def __init__(self, port: int, limit_s: float) -> None:
        self.port, self.limit_s = port, limit_s
        self._seen: dict[tuple[int, str], float] = {}  # (fd, socket inode) -> first seen

    def sweep(self, now: float) -> list[str]:
        """One pass over this process's sockets; the peers closed."""
        closed: list[str] = []
        seen: dict[tuple[int, str], float] = {}
        for name in os.listdir("/proc/self/fd"):
            try:
                target = os.readlink(f"/proc/self/fd/{name}")
            except OSError:
                continue
            if not target.startswith("socket:"):
                continue
            key = (int(name), target)
            first = self._seen.get(key, now)
            peer = self._check(int(name), now - first)
            if peer is None:
                seen[key] = first
            elif peer:
                closed.append(peer)
        self._seen = seen
        return closed

    def _check(self, fd: int, age_s: float) -> str | None:
        """None: keep watching; "": not ours to watch; else the peer just closed."""
        try:
            sock = socket.socket(fileno=os.dup(fd))
        except OSError:
            return ""
        try:
            if (
                sock.family not in (socket.AF_INET, socket.AF_INET6)
                or sock.type != socket.SOCK_STREAM
            ):
                return ""
            if sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN):
                return ""
            if sock.getsockname()[1] != self.port:
                return ""
            if age_s <= self.limit_s or not _never_answered(sock):
                return None
            peer = sock.getpeername()
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            return ""
        finally:
            sock.close()
        text = f"{peer[0]}:{peer[1]}"
        _log.warning("FIX connection from %s was never logged on within %.0f s: closed", text,
                     self.limit_s, extra={"event": "fix.logon_timeout", "peer": text})  # fmt: skip
        return text


__all__ = ["LogonDeadline", "blocked_poll_fd", "close_connection", "enforce"]
