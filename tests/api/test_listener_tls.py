"""TLS on the REST and admin ports of a real `interlock serve`, with throwaway certificates
(sim/tls.py): HTTPS verifies against the CA, plain HTTP to a TLS port gets no HTTP answer,
a client trusting another CA refuses the server, and the admin port with `tls_ca` accepts
only clients with a certificate that CA signed. Bad TLS files stop serve at start-up with
TLS_INVALID naming the key, before any port opens."""

from __future__ import annotations

import os
import re
import shutil
import ssl
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from api.conftest import ADMIN_TOKEN, DESK_KEY, bearer
from api.serve_kit import (
    announced,
    kill_if_running,
    serve_config,
    set_keys,
    start_serve,
    stop_serve,
)
from interlock.api.tls import server_context
from interlock.domain.reject import RejectCode
from interlock.errors import TlsConfigError
from interlock.sim.tls import TlsFiles, make_tls, tls11_handshake

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")


def _trusting(ca: Path, client: tuple[Path, Path] | None = None) -> ssl.SSLContext:
    """A client context that trusts `ca` (and presents `client`'s certificate, if given)."""
    ctx = ssl.create_default_context(cafile=str(ca))
    if client is not None:
        ctx.load_cert_chain(*map(str, client))
    return ctx


def _tls_keys(files: TlsFiles, ca: Path | None = None) -> dict[str, str]:
    keys = {"tls_cert": str(files.server_cert), "tls_key": str(files.server_key)}
    return keys if ca is None else {**keys, "tls_ca": str(ca)}


def test_rest_and_admin_over_tls_verify_refuse_plain_http_and_wrong_ca(
    certs: tuple[TlsFiles, TlsFiles], tmp_path: Path
) -> None:
    good, other = certs
    config = serve_config(tmp_path)
    set_keys(config, "rest", **_tls_keys(good))
    set_keys(config, "admin", **_tls_keys(good, ca=good.ca_cert))  # mutual TLS
    proc, lines, _ = start_serve(config)
    try:
        urls = announced(lines, 2)
        rest, admin = urls["rest"], urls["admin"]
        assert rest.startswith("https://127.0.0.1:") and admin.startswith("https://127.0.0.1:")

        with httpx.Client(verify=_trusting(good.ca_cert), timeout=10) as client:
            assert client.get(f"{rest}/health").status_code == 200
            order = {"client_order_id": "tls-1", "account": "desk-7", "strategy": "vwap",
                     "symbol": "AAPL", "side": "buy", "quantity": 10,
                     "limit_price": "99.00"}  # fmt: skip
            placed = client.post(f"{rest}/orders", json=order, headers=bearer(DESK_KEY))
            assert placed.status_code == 201, placed.text

        port = int(rest.rsplit(":", 1)[1])
        with pytest.raises(ssl.SSLError, match=r"PROTOCOL_VERSION|protocol version|EOF"):
            tls11_handshake(
                "127.0.0.1", port
            )  # below the floor: an alert, or (asyncio) the connection dropped

        plain = rest.replace("https://", "http://")
        with pytest.raises(httpx.TransportError):  # no HTTP answer at all: the TLS port
            httpx.get(f"{plain}/health", timeout=10)

        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            httpx.get(f"{rest}/health", verify=_trusting(other.ca_cert), timeout=10)

        # admin: a client certificate from the configured CA is required
        with pytest.raises(httpx.TransportError):
            httpx.get(f"{admin}/halts", verify=_trusting(good.ca_cert), timeout=10,
                      headers=bearer(ADMIN_TOKEN))  # fmt: skip
        stranger = (other.client_cert, other.client_key)
        with pytest.raises(httpx.TransportError):
            httpx.get(f"{admin}/halts", verify=_trusting(good.ca_cert, stranger), timeout=10,
                      headers=bearer(ADMIN_TOKEN))  # fmt: skip
        mine = (good.client_cert, good.client_key)
        with httpx.Client(verify=_trusting(good.ca_cert, mine), timeout=10) as client:
            halted = client.post(f"{admin}/halt", headers=bearer(ADMIN_TOKEN),
                                 json={"scope": "global", "reason": "tls test"})  # fmt: skip
            assert halted.status_code == 200 and halted.json()["complete"], halted.text
        with httpx.Client(verify=_trusting(good.ca_cert), timeout=10) as client:
            after = client.post(f"{rest}/orders", headers=bearer(DESK_KEY),
                                json={**order, "client_order_id": "tls-2"})  # fmt: skip
            assert (after.status_code, after.json()["code"]) == (423, "HALTED")
        stop_serve(proc)
    finally:
        kill_if_running(proc)


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> tuple[TlsFiles, TlsFiles]:
    """A good CA with its certificates, and an unrelated one (made once: RSA keys are slow)."""
    base = tmp_path_factory.mktemp("certs")
    return make_tls(base / "good"), make_tls(base / "other")


class _Section:
    def __init__(self, keys: dict[str, str]) -> None:
        self.tls_cert = keys.get("tls_cert")
        self.tls_key = keys.get("tls_key")
        self.tls_ca = keys.get("tls_ca")


def _bad(case: str, good: TlsFiles, other: TlsFiles, tmp: Path) -> tuple[dict[str, str], str]:
    ok = _tls_keys(good)
    return {
        "missing cert": ({**ok, "tls_cert": str(tmp / "nope.pem")},
                         r"rest\.tls_cert .* does not exist"),
        "key of another cert": ({**ok, "tls_key": str(other.server_key)},
                                r"rest\.tls_key .* does not match rest\.tls_cert"),
        "directory as key": ({**ok, "tls_key": str(tmp)}, r"rest\.tls_key .* cannot be read"),
        "key as cert": ({**ok, "tls_cert": str(good.server_key)},
                        r"rest\.tls_cert .* is not a PEM certificate"),
        "cert as key": ({**ok, "tls_key": str(good.server_cert)},
                        r"rest\.tls_key .* is not a PEM private key"),
        "missing ca": ({**ok, "tls_ca": str(tmp / "ca-nope.pem")},
                       r"rest\.tls_ca .* does not exist"),
        "key as ca": ({**ok, "tls_ca": str(good.server_key)},
                      r"rest\.tls_ca .* is not a PEM CA bundle"),
    }[case]  # fmt: skip


CASES = ["missing cert", "key of another cert", "directory as key", "key as cert",
         "cert as key", "missing ca", "key as ca"]  # fmt: skip


@pytest.mark.parametrize("case", CASES)
def test_bad_tls_file_is_refused_with_TLS_INVALID_naming_key_and_file(
    certs: tuple[TlsFiles, TlsFiles], tmp_path: Path, case: str
) -> None:
    keys, message = _bad(case, *certs, tmp_path)
    with pytest.raises(TlsConfigError) as refused:
        server_context("rest", _Section(keys))
    assert refused.value.code is RejectCode.TLS_INVALID
    assert re.search(message, str(refused.value)), str(refused.value)


def test_good_tls_files_give_a_tls12_floor_and_client_certs_only_with_a_ca(
    certs: tuple[TlsFiles, TlsFiles],
) -> None:
    good, _ = certs
    plain = server_context("rest", _Section(_tls_keys(good)))
    mutual = server_context("admin", _Section(_tls_keys(good, ca=good.ca_cert)))
    assert plain is not None and mutual is not None
    assert plain.minimum_version is ssl.TLSVersion.TLSv1_2
    assert (plain.verify_mode, mutual.verify_mode) == (ssl.CERT_NONE, ssl.CERT_REQUIRED)
    assert server_context("rest", _Section({})) is None


def test_a_mismatched_key_stops_serve_with_TLS_INVALID_before_any_port_opens(
    certs: tuple[TlsFiles, TlsFiles], tmp_path: Path
) -> None:
    good, other = certs
    keys = {**_tls_keys(good), "tls_key": str(other.server_key)}
    config = set_keys(serve_config(tmp_path), "admin", **keys)
    proc, lines, reader = start_serve(config)
    try:
        assert proc.wait(timeout=60) != 0
        reader.join(10)
        out = "".join(lines.queue)
        assert "TLS_INVALID: admin.tls_key " in out and "does not match admin.tls_cert" in out
        assert "listening on" not in out and "Traceback" not in out, out
    finally:
        kill_if_running(proc)


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "interlock.cli", *args], capture_output=True,
                          text=True, timeout=60, env=env)  # fmt: skip


def test_the_operator_cli_reaches_a_tls_admin_port_with_its_ca_and_says_why_without(
    certs: tuple[TlsFiles, TlsFiles], tmp_path: Path
) -> None:
    good, _ = certs
    config = set_keys(serve_config(tmp_path), "admin", **_tls_keys(good))
    proc, lines, _ = start_serve(config)
    try:
        admin = announced(lines, 2)["admin"]
        base = {k: v for k, v in os.environ.items() if not k.startswith("SSL_CERT")}
        base |= {"INTERLOCK_ADMIN_TOKEN": ADMIN_TOKEN, "COLUMNS": "200"}
        trusted = _cli("fleet", "status", "--admin", admin,
                       env={**base, "SSL_CERT_FILE": str(good.ca_cert)})  # fmt: skip
        assert trusted.returncode == 0, trusted.stdout + trusted.stderr
        untrusted = _cli("fleet", "status", "--admin", admin, env=base)
        said = untrusted.stdout + untrusted.stderr
        assert untrusted.returncode != 0 and "Traceback" not in said, said
        assert "TLS certificate this machine does not trust" in said and "SSL_CERT_FILE" in said
        stop_serve(proc)
    finally:
        kill_if_running(proc)
