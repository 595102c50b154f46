"""Child processes for tests: free loopback ports, and children that die with their parent.

A test that starts servers (etcd, `interlock serve`) must not leave them running when the
test process dies, however it dies: `die_with_parent` (a `preexec_fn`) asks the kernel to
SIGKILL the child when the thread that started it exits, and `stop_process` ends one
child by its own pid, politely first, within a bounded time.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import signal
import socket
import subprocess
from contextlib import ExitStack
from typing import Any

_PR_SET_PDEATHSIG = 1


def free_ports(count: int) -> list[int]:
    """`count` distinct ports that were free on 127.0.0.1 a moment ago (all held at once,
    so they differ; another process may still take one before the caller binds it)."""
    with ExitStack() as stack:
        socks = [stack.enter_context(socket.socket()) for _ in range(count)]
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in socks]


def die_with_parent() -> None:
    """`preexec_fn`: the child gets SIGKILL when its parent (the starting thread) exits."""
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)


def stop_process(proc: subprocess.Popen[Any], timeout: float = 5.0) -> None:
    """SIGTERM (after SIGCONT, in case it was paused), then SIGKILL after `timeout`."""
    if proc.poll() is not None:
        return
    try:
        proc.send_signal(signal.SIGCONT)
        proc.terminate()
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout)
    except ProcessLookupError:
        pass
