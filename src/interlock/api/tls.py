"""TLS for the listeners: each listener's certificate files turned into a server context,
checked at start-up, before any port opens.

Why here and not in uvicorn or QuickFIX: both read the files only when their server
starts, after other ports are already listening, and say little more than "PEM lib". Serve
reads every listener's files first (`Service.__init__`), so a missing, unreadable or
mismatched file stops it with TLS_INVALID naming the key and the file, and nothing is
half started. The REST and admin contexts built here are the ones uvicorn serves with;
the FIX acceptor's files are checked the same way, then read again by QuickFIX itself.

TLS 1.2 is the floor; with `tls_ca` set a client must present a certificate that CA
signed (mutual TLS), on top of the listener's own bearer token or FIX logon.
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Protocol

from interlock.errors import TlsConfigError


class TlsSettings(Protocol):
    """The TLS keys of a listener's section (api/listeners.py)."""

    @property
    def tls_cert(self) -> str | None: ...
    @property
    def tls_key(self) -> str | None: ...
    @property
    def tls_ca(self) -> str | None: ...


def _readable(section: str, key: str, path: str) -> None:
    try:
        with Path(path).open("rb") as f:
            f.read(1)
    except FileNotFoundError:
        raise TlsConfigError(f"{section}.{key} {path} does not exist") from None
    except OSError as exc:
        raise TlsConfigError(f"{section}.{key} {path} cannot be read: {exc.strerror}") from None


def server_context(section: str, settings: TlsSettings) -> ssl.SSLContext | None:
    """The server context of `section`'s listener (None without TLS), or TlsConfigError
    naming the key and file at fault."""
    cert, key, ca = settings.tls_cert, settings.tls_key, settings.tls_ca
    if cert is None or key is None:
        return None
    for name, path in (("tls_cert", cert), ("tls_key", key), ("tls_ca", ca)):
        if path is not None:
            _readable(section, name, path)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        ssl.create_default_context(cafile=cert)  # parses the certificate alone
    except ssl.SSLError as exc:
        raise TlsConfigError(f"{section}.tls_cert {cert} is not a PEM certificate: {exc}") from None
    try:
        ctx.load_cert_chain(cert, key)
    except ssl.SSLError as exc:
        if "key values mismatch" in str(exc).lower():  # OpenSSL's X509 reason
            why = f"{section}.tls_key {key} does not match {section}.tls_cert {cert}"
        else:
            why = f"{section}.tls_key {key} is not a PEM private key: {exc}"
        raise TlsConfigError(why) from None
    if ca is not None:
        try:
            ctx.load_verify_locations(cafile=ca)
        except ssl.SSLError as exc:
            raise TlsConfigError(f"{section}.tls_ca {ca} is not a PEM CA bundle: {exc}") from None
        ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx
