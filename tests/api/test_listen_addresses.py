"""`interlock serve` listens only where configured: every listening socket of the process,
read from the OS (/proc/<pid>/net/tcp and tcp6), is on the configured address (127.0.0.1
by default; 127.0.0.2 with TLS on every port in the second test, so "configured" is
proven, not just "loopback"), none on 0.0.0.0 or ::, and the announced addresses are the
bound ones. QuickFIX binds INADDR_ANY by itself; the
FIX acceptor's socket is swapped for ours (fixengine/bind.py), and this test proves it."""

from __future__ import annotations

import os
import queue
import re
import shutil
import socket
import ssl
import subprocess
import time
from pathlib import Path

import pytest

from api.serve_kit import (
    fix_section,
    kill_if_running,
    serve_config,
    set_keys,
    start_serve,
    stop_serve,
)
from interlock.sim.tls import make_tls

LISTEN = "0A"


def _config(tmp_path: Path) -> Path:
    """The default config with REST, admin and FIX all on port 0 (picked by the OS)."""
    return serve_config(tmp_path, fix_section(0))


def _serve(config: Path) -> tuple[subprocess.Popen[str], queue.Queue[str]]:
    proc, lines, _ = start_serve(config)
    return proc, lines


def _ip(hex_addr: str) -> str:
    raw = bytes.fromhex(hex_addr)
    if len(raw) == 4:
        return socket.inet_ntop(socket.AF_INET, raw[::-1])
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
    return socket.inet_ntop(socket.AF_INET6, words)


def listening_addresses(pid: int) -> list[tuple[str, int]]:
    """(ip, port) of every TCP socket of process `pid` in LISTEN, from the kernel's tables."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.add(link[8:-1])
    found = []
    for table in ("tcp", "tcp6"):
        path = Path(f"/proc/{pid}/net/{table}")
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            cols = line.split()
            local, state, inode = cols[1], cols[3], cols[9]
            if state == LISTEN and inode in inodes:
                addr, port = local.split(":")
                found.append((_ip(addr), int(port, 16)))
    return sorted(found)


def own_non_loopback_addresses() -> list[str]:
    """This machine's own addresses that are not loopback (`hostname -I`)."""
    exe = shutil.which("hostname")
    if exe is None:
        return []
    out = subprocess.run([exe, "-I"], capture_output=True, text=True, timeout=5).stdout
    return [a for a in out.split() if not a.startswith("127.") and a != "::1"]


def test_serve_listens_only_on_the_configured_loopback_address(tmp_path: Path) -> None:
    proc, lines = _serve(_config(tmp_path))  # port 0: what is announced must be read back
    try:
        announced: dict[str, tuple[str, int]] = {}
        deadline = time.monotonic() + 30
        while len(announced) < 3 and time.monotonic() < deadline:
            line = lines.get(timeout=20)
            found = re.search(
                r"(rest|admin|fix acceptor) listening on (?:http://)?([\d.]+):(\d+)", line
            )
            if found:
                announced[found.group(1)] = (found.group(2), int(found.group(3)))
        assert len(announced) == 3, announced
        bound = listening_addresses(proc.pid)
        assert bound == sorted(announced.values()), (bound, announced)
        assert all(host == "127.0.0.1" for host, _ in bound), bound
        assert not any(host in ("0.0.0.0", "::") for host, _ in bound), bound
        for host in own_non_loopback_addresses():
            family = socket.AF_INET6 if ":" in host else socket.AF_INET
            for _, port in bound:
                with socket.socket(family, socket.SOCK_STREAM) as s:
                    s.settimeout(2)
                    with pytest.raises(ConnectionRefusedError):
                        s.connect((host, port))
        stop_serve(proc)
    finally:
        kill_if_running(proc)


def _has_address(host: str) -> bool:
    with socket.socket() as s:
        try:
            s.bind((host, 0))
        except OSError:
            return False
    return True


ALT = "127.0.0.2"  # Linux routes all of 127/8 to loopback: a configured, non-default address


@pytest.mark.skipif(not _has_address(ALT), reason=f"{ALT} is not an address of this host")
@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")
def test_serve_with_tls_listens_only_on_the_configured_non_default_address(
    tmp_path: Path,
) -> None:
    tls = make_tls(tmp_path / "tls")
    files = {"tls_cert": str(tls.server_cert), "tls_key": str(tls.server_key)}
    config = _config(tmp_path)
    for section in ("rest", "admin", "fix"):
        set_keys(config, section, host=ALT, **files)
    set_keys(config, "admin", tls_ca=str(tls.ca_cert))
    proc, lines = _serve(config)
    try:
        found: dict[str, tuple[str, int]] = {}
        behind: tuple[str, int] | None = None
        deadline = time.monotonic() + 30
        while len(found) < 3 and time.monotonic() < deadline:
            line = lines.get(timeout=20)
            m = re.search(
                r"(rest|admin|fix acceptor) listening on (?:https://)?([\d.]+):(\d+)", line
            )
            if m:
                found[m.group(1)] = (m.group(2), int(m.group(3)))
            if q := re.search(r"QuickFIX behind it on ([\d.]+):(\d+)", line):
                behind = (q.group(1), int(q.group(2)))
        assert len(found) == 3 and behind is not None, (found, behind)
        bound = listening_addresses(proc.pid)
        assert bound == sorted([*found.values(), behind]), (bound, found, behind)
        assert all(host == ALT for host, _ in bound), bound
        for _, port in bound:  # the default loopback address has none of them
            with socket.socket() as s:
                s.settimeout(2)
                with pytest.raises(ConnectionRefusedError):
                    s.connect(("127.0.0.1", port))
        ca = ssl.create_default_context(cafile=str(tls.ca_cert))
        ca.check_hostname = False  # the certificate names 127.0.0.1; the address is ALT
        for name in ("rest", "fix acceptor"):  # TLS answers where announced
            raw = socket.create_connection(found[name], timeout=5)
            with ca.wrap_socket(raw) as wrapped:
                assert wrapped.version() in ("TLSv1.2", "TLSv1.3")
        stop_serve(proc)
    finally:
        kill_if_running(proc)
