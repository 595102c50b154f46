"""Cut one child process off from chosen TCP ports on loopback, and heal it, for fault tests.

A fault test needs one `interlock serve` to lose its path to etcd while its peers keep
theirs, all on 127.0.0.1. Ports alone cannot tell the processes apart, so the child is
started inside its own cgroup (v2), and iptables matches on that:

    OUTPUT -o lo -> chain ILK-<id>:
      -m cgroup --path /<cg> -j CONNMARK --set-mark M      always: tag the child's connections
      -p tcp --dport P -m cgroup --path /<cg> -j DROP       isolated: child -> etcd port P
      -p tcp --sport P -m connmark --mark M -j DROP         isolated: etcd port P -> child

Both directions are dropped (not reset), so the child sees what a real partition looks
like: established connections hang, new ones time out, nothing arrives (no watch event
leaks in), and after `heal()` TCP retransmits and the same connections carry on. Others
on the host, and the child's own listeners, are untouched. Needs root (CAP_NET_ADMIN),
`iptables` (Debian package `iptables`; nf_tables or legacy both work) and a writable
cgroup2 mount; `partition_support()` says which is missing.

    with Partition([sys.executable, "-m", "interlock", ...], ports=cluster.client_ports) as p:
        p.isolate(); ...; p.heal()
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import os
import secrets
import shutil
import signal
import subprocess
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from interlock.sim.procs import die_with_parent, stop_process

_ids = itertools.count()


class PartitionUnavailable(RuntimeError):
    """This machine cannot partition a process (not root, no iptables, no cgroup2)."""


def _cgroup2_root() -> Path | None:
    try:
        mounts = Path("/proc/self/mounts").read_text().splitlines()
    except OSError:
        return None
    for line in mounts:
        fields = line.split()
        if len(fields) >= 3 and fields[2] == "cgroup2":
            return Path(fields[1])
    return None


def _iptables_binary() -> str | None:
    return shutil.which("iptables") or (
        "/usr/sbin/iptables" if os.access("/usr/sbin/iptables", os.X_OK) else None
    )


def partition_support() -> str | None:
    """None when `Partition` can work here, else why not and how to fix it."""
    if os.geteuid() != 0:
        return "partitions need root (iptables and cgroups); CI runs the tests as root"
    if _iptables_binary() is None:
        return "iptables is not installed: apt-get install iptables (scripts/test.sh does)"
    root = _cgroup2_root()
    if root is None or not os.access(root, os.W_OK):
        return "no writable cgroup2 mount (see /proc/self/mounts)"
    return None


class Partition:
    """A child process (`process`) whose TCP to `ports` on 127.0.0.1 can be cut."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        ports: Iterable[int],
        env: Mapping[str, str] | None = None,
        cwd: str | Path | None = None,
        stdin: int | IO[Any] | None = subprocess.DEVNULL,
        stdout: int | IO[Any] | None = None,
        stderr: int | IO[Any] | None = None,
    ) -> None:
        reason = partition_support()
        if reason is not None:
            raise PartitionUnavailable(reason)
        self._ports = tuple(sorted(set(ports)))
        self._iptables = str(_iptables_binary())
        ident = f"{os.getpid()}-{next(_ids)}"
        self._chain = f"ILK-{ident}"
        self._cg_name = f"interlock-partition-{ident}"
        self._cgroup = Path(str(_cgroup2_root())) / self._cg_name
        self._mark = f"{secrets.randbits(31) | 1:#x}"
        self._isolated: set[int] = set()
        self._closed = False
        self._cgroup.mkdir()
        atexit.register(self.close)
        try:
            self._run("-N", self._chain)
            self._run("-I", "OUTPUT", "-o", "lo", "-j", self._chain)
            self._run(
                "-A", self._chain, *self._in_cgroup(), "-j", "CONNMARK", "--set-mark", self._mark
            )
            procs = self._cgroup / "cgroup.procs"

            def enter_cgroup() -> None:  # in the child, before exec: no unmatched moment
                procs.write_text("0")
                die_with_parent()

            self.process: subprocess.Popen[bytes] = subprocess.Popen(
                list(argv),
                env=None if env is None else dict(env),
                cwd=cwd,
                stdin=stdin,
                stdout=stdout,
                stderr=stderr,
                preexec_fn=enter_cgroup,
            )
        except BaseException:
            self.close()
            raise

    @property
    def cgroup(self) -> Path:
        """The child's cgroup (removed by `close`)."""
        return self._cgroup

    @property
    def isolated(self) -> frozenset[int]:
        """The ports the child cannot reach now."""
        return frozenset(self._isolated)

    def isolate(self, ports: Iterable[int] | None = None) -> None:
        """Drop the child's packets to, and the replies from, `ports` (default: all the
        ports given at start); other ports and other processes are untouched."""
        for port in self._chosen(ports):
            if port not in self._isolated:
                self._run("-A", self._chain, *self._cut_out(port))
                self._run("-A", self._chain, *self._cut_in(port))
                self._isolated.add(port)

    def heal(self, ports: Iterable[int] | None = None) -> None:
        """Restore the child's path to `ports` (default: every isolated one)."""
        for port in sorted(self._isolated if ports is None else set(ports)):
            if port in self._isolated:
                self._run("-D", self._chain, *self._cut_out(port))
                self._run("-D", self._chain, *self._cut_in(port))
                self._isolated.discard(port)

    def close(self, timeout: float = 5.0) -> None:
        """Stop the child (SIGTERM, then SIGKILL), then remove the rules and the cgroup."""
        if self._closed:
            return
        self._closed = True
        proc = getattr(self, "process", None)
        if proc is not None:
            stop_process(proc, timeout)
        self._kill_leftovers(timeout)
        self._run("-D", "OUTPUT", "-o", "lo", "-j", self._chain, check=False)
        self._run("-F", self._chain, check=False)
        self._run("-X", self._chain, check=False)
        with contextlib.suppress(OSError):
            self._cgroup.rmdir()
        atexit.unregister(self.close)

    def __enter__(self) -> Partition:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _chosen(self, ports: Iterable[int] | None) -> list[int]:
        chosen = self._ports if ports is None else tuple(sorted(set(ports)))
        unknown = sorted(set(chosen) - set(self._ports))
        if unknown:
            raise ValueError(f"ports {unknown} were not given to this Partition")
        return list(chosen)

    def _in_cgroup(self) -> tuple[str, ...]:
        return ("-m", "cgroup", "--path", "/" + self._cg_name)

    def _cut_out(self, port: int) -> tuple[str, ...]:
        return ("-p", "tcp", "--dport", str(port), *self._in_cgroup(), "-j", "DROP")

    def _cut_in(self, port: int) -> tuple[str, ...]:
        return (
            "-p",
            "tcp",
            "--sport",
            str(port),
            "-m",
            "connmark",
            "--mark",
            self._mark,
            "-j",
            "DROP",
        )

    def _kill_leftovers(self, timeout: float) -> None:
        # Grandchildren inherit the cgroup: none may outlive the partition.
        deadline = time.monotonic() + timeout
        procs = self._cgroup / "cgroup.procs"
        while time.monotonic() < deadline:
            try:
                pids = [int(p) for p in procs.read_text().split()]
            except OSError:
                return
            if not pids:
                return
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.02)

    def _run(self, *args: str, check: bool = True) -> None:
        done = subprocess.run(
            [self._iptables, "-w", "5", *args], capture_output=True, text=True, check=False
        )
        if check and done.returncode != 0:
            raise PartitionUnavailable(
                f"iptables {' '.join(args)} failed ({done.returncode}): {done.stderr.strip()}"
            )
