"""FIX over TLS on a real `interlock serve`: TLS terminated in-process in front of
QuickFIX's acceptor (api/fix/tls_front.py). A desk's QuickFIX SSL initiator (QuickFIX's
own OpenSSL: another TLS stack than the server's) with a certificate from the configured
CA logs on and trades; a plain-TCP FIX client, and TLS clients with no or a stranger's
client certificate, never get in; a Python TLS client sees the server certificate we
configured and refuses it when trusting another CA; TCP connections that never start
their handshake hold up nobody else (QuickFIX's own SSL acceptor stalls every session
for 10 s on each)."""

from __future__ import annotations

import shutil
import socket
import ssl
from pathlib import Path
from typing import Any

import pytest

from api.serve_kit import (
    announced,
    fix_section,
    kill_if_running,
    serve_config,
    set_keys,
    start_serve,
    stop_serve,
)
from interlock.sim.harness import DESK_KEY
from interlock.sim.tls import make_tls, tls11_handshake

fix_client = pytest.importorskip("interlock.sim.fix_client")
engine = pytest.importorskip("interlock.fixengine.engine")
pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")


def _handshake(port: int, ca: Path, client: tuple[Path, Path] | None = None) -> ssl.SSLSocket:
    ctx = ssl.create_default_context(cafile=str(ca))
    if client is not None:
        ctx.load_cert_chain(*map(str, client))
    raw = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        return ctx.wrap_socket(raw, server_hostname="127.0.0.1")
    except BaseException:
        raw.close()
        raise


def _refused_after_handshake(tls: ssl.SSLSocket) -> bool:
    """True when the server ends the connection (TLS 1.3 sends its "certificate required"
    alert after the client's side of the handshake); False when it waits for a Logon."""
    with tls:
        tls.settimeout(3)
        try:
            return tls.recv(1) == b""
        except TimeoutError:
            return False
        except (ssl.SSLError, ConnectionResetError):
            return True


def test_fix_over_tls_logs_on_with_a_client_cert_and_refuses_plain_tcp_and_strangers(
    tmp_path: Path,
) -> None:
    good, other = make_tls(tmp_path / "good"), make_tls(tmp_path / "other")
    config = set_keys(serve_config(tmp_path, fix_section(0)), "fix",
                      tls_cert=str(good.server_cert), tls_key=str(good.server_key),
                      tls_ca=str(good.ca_cert))  # fmt: skip
    proc, lines, _ = start_serve(config)
    try:
        port = int(announced(lines, 3)["fix acceptor"].rsplit(":", 1)[1])

        def desk(name: str, tls: object) -> Any:
            return fix_client.FixClient(tmp_path / name, port, "DESK1", "desk-7-algo",
                                        DESK_KEY, file_log=False, qualifier=name,
                                        tls=tls)  # fmt: skip

        ok = engine.FixTls(str(good.client_cert), str(good.client_key), str(good.ca_cert))
        trader = desk("tls", ok)
        assert trader.start(timeout=10), "the TLS FIX client did not log on"
        trader.new_order("tls-fix-1", qty=10, price="99.00")
        ack = trader.expect(lambda m: m[35] == "8" and m.get(11) == "tls-fix-1", timeout=10)
        assert ack[39] == "0", ack  # New: the order went through the gateway
        trader.stop()
        # a Python TLS client: the certificate served is the one configured
        with _handshake(port, good.ca_cert, (good.client_cert, good.client_key)) as tls:
            assert tls.version() in ("TLSv1.2", "TLSv1.3")
            subject = dict(x[0] for x in tls.getpeercert()["subject"])
            assert subject["commonName"] == "127.0.0.1"
        with pytest.raises(ssl.SSLCertVerificationError):
            _handshake(port, other.ca_cert, (good.client_cert, good.client_key))
        with pytest.raises(ssl.SSLError, match=r"PROTOCOL_VERSION|protocol version|EOF"):
            tls11_handshake("127.0.0.1", port, (good.client_cert, good.client_key))
        assert _refused_after_handshake(_handshake(port, good.ca_cert))  # no client cert
        stranger = (other.client_cert, other.client_key)
        assert _refused_after_handshake(_handshake(port, good.ca_cert, stranger))
        assert not _refused_after_handshake(
            _handshake(port, good.ca_cert, (good.client_cert, good.client_key))
        )  # the control: a good client cert is let in, and the acceptor waits for a Logon

        plain = desk("plain", None)
        assert not plain.start(timeout=3), "a plain-TCP FIX client logged on to the TLS port"
        plain.stop(force=True)

        stop_serve(proc)
    finally:
        kill_if_running(proc)


def test_idle_connections_to_the_fix_tls_port_hold_up_no_other_desk(tmp_path: Path) -> None:
    good = make_tls(tmp_path / "good")
    config = set_keys(serve_config(tmp_path, fix_section(0)), "fix",
                      tls_cert=str(good.server_cert), tls_key=str(good.server_key))  # fmt: skip
    proc, lines, _ = start_serve(config)
    idle: list[socket.socket] = []
    try:
        port = int(announced(lines, 3)["fix acceptor"].rsplit(":", 1)[1])
        for _ in range(IDLE):  # connect, send nothing: a handshake that never starts
            idle.append(socket.create_connection(("127.0.0.1", port), timeout=5))
        tls = engine.FixTls(ca=str(good.ca_cert))
        desk = fix_client.FixClient(tmp_path / "desk", port, "DESK1", "desk-7-algo", DESK_KEY,
                                    file_log=False, tls=tls, qualifier="idle")  # fmt: skip
        assert desk.start(timeout=LOGON_S), (
            f"no logon within {LOGON_S} s while {IDLE} idle connections were open"
        )
        desk.new_order("idle-1", qty=10, price="99.00")
        ack = desk.expect(lambda m: m[35] == "8" and m.get(11) == "idle-1", timeout=LOGON_S)
        assert ack[39] == "0", ack
        desk.stop()
        stop_serve(proc)
    finally:
        for s in idle:
            s.close()
        kill_if_running(proc)


IDLE = 3  # QuickFIX's SSLSocketAcceptor would stall 10 s on each, one after another
LOGON_S = 8.0  # generous for a loaded machine, and still short of one QuickFIX stall
