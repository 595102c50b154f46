"""Throwaway certificates for TLS tests, made with the `openssl` command line.

A test that proves TLS works needs a CA, a server certificate the client can verify for
127.0.0.1, and a client certificate for mutual TLS, none of which may outlive the test:
`make_tls(dir)` writes them under `dir` (seconds, RSA 2048, valid one day). `make_tls` of
another dir gives an unrelated CA, the "wrong CA" a client must refuse.
"""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import warnings
from dataclasses import dataclass
from pathlib import Path

OPENSSL_HINT = "install it: apt-get install openssl"


class TlsError(RuntimeError):
    """openssl is missing or refused to make a certificate (the message has its output)."""


@dataclass(frozen=True, slots=True)
class TlsFiles:
    """PEM files: the CA, a server certificate for 127.0.0.1, a client certificate."""

    ca_cert: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path


def make_tls(directory: Path, client_name: str = "interlock") -> TlsFiles:
    """A fresh CA under `directory`, and a server and a client certificate it signed."""
    if shutil.which("openssl") is None:
        raise TlsError(f"openssl is not on PATH: {OPENSSL_HINT}")
    directory.mkdir(parents=True, exist_ok=True)
    ca, ca_key = directory / "ca.pem", directory / "ca-key.pem"
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
             "-subj", "/CN=interlock-test-ca", "-keyout", ca_key, "-out", ca)  # fmt: skip
    server = _signed(directory, "server", "127.0.0.1", ca, ca_key,
                     "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                     "extendedKeyUsage=serverAuth,clientAuth\n")  # fmt: skip
    client = _signed(directory, "client", client_name, ca, ca_key,
                     "extendedKeyUsage=clientAuth\n")  # fmt: skip
    return TlsFiles(ca, *server, *client)


def _signed(
    directory: Path, name: str, cn: str, ca: Path, ca_key: Path, ext: str
) -> tuple[Path, Path]:
    cert, key = directory / f"{name}.pem", directory / f"{name}-key.pem"
    csr, extfile = directory / f"{name}.csr", directory / f"{name}.ext"
    extfile.write_text(ext)
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={cn}",
             "-keyout", key, "-out", csr)  # fmt: skip
    _openssl("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
             "-days", "1", "-extfile", extfile, "-out", cert)  # fmt: skip
    return cert, key


def _openssl(*args: str | Path) -> None:
    done = subprocess.run(
        ["openssl", *map(str, args)], capture_output=True, text=True, timeout=30, check=False
    )
    if done.returncode != 0:
        raise TlsError(f"openssl {args[0]} failed: {done.stderr.strip()[-500:]}")


def tls11_handshake(host: str, port: int, client: tuple[Path, Path] | None = None) -> None:
    """A TLS 1.1 handshake with every client-side floor lowered (ciphers at SECLEVEL 0),
    presenting `client`'s certificate if given (a server that wants one must not refuse
    for want of it), so only the server's TLS 1.2 floor can refuse it: ssl.SSLError."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    if client is not None:
        ctx.load_cert_chain(*map(str, client))
    with warnings.catch_warnings():  # TLSv1_1 is deprecated: that is the point
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    with socket.create_connection((host, port), timeout=5) as raw:
        ctx.wrap_socket(raw).close()
