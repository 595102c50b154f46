"""A synchronous etcd v3 session over several endpoints: failover, TLS, user and password.

Built on `etcd3gw` (etcd's HTTP/JSON gateway): it gives each endpoint a `requests` session
with TLS and client certificates set, and maps HTTP failures to its exceptions; this module
adds what it lacks: a list of endpoints tried in turn (a dead node is skipped, the next
answers), authentication (etcd's `/auth/authenticate` token, sent as a header and renewed
when etcd says it expired), and a watch stream that reports its own end and its headers'
revisions (etcd3gw's `Watcher` swallows both, and the plane needs them to know how fresh
its view is). Every failure of the cluster surfaces as `ControlPlaneError`, naming the
endpoint and etcd's own words (etcd3gw keeps those in `detail_text`, not in `str()`).

Tested against a real cluster (tests/etcd/test_etcd_security.py), which found what this
module now guards against: `requests` lets `REQUESTS_CA_BUNDLE` override the configured CA
(so the sessions ignore the environment), and an expired token cancels a watch with
"invalid auth token" inside an HTTP 200 stream, so the stream drops the token it was made
with and the next watch authenticates afresh.

Calls are raw gateway requests (`kv/range`, `kv/txn`, `lease/grant`, ...) and return the
gateway's JSON decoded, with keys and values as text and revisions as ints.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import socket
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from etcd3gw.client import Etcd3Client
from etcd3gw.exceptions import ConnectionFailedError, ConnectionTimeoutError, Etcd3Exception

from interlock.errors import ControlPlaneError

SCHEME = "etcd://"
_UNREACHABLE = (ConnectionFailedError, ConnectionTimeoutError)
# etcd's words for a token it no longer takes (expired, or the auth store moved on since it
# was issued): authenticate again, once, and resend.
_STALE_TOKEN = ("invalid auth token", "revision of auth store is old")


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode("ascii")


def unb64(text: str) -> str:
    return base64.b64decode(text).decode()


def prefix_end(prefix: str) -> str:
    """The range end that covers every key starting with `prefix` (etcd's convention)."""
    raw = bytearray(prefix.encode())
    raw[-1] += 1
    return base64.b64encode(bytes(raw)).decode("ascii")


def parse_endpoints(url: str) -> list[tuple[str, int]]:
    """`etcd://h1:p1,h2:p2,h3:p3` (the scheme optional) as (host, port) pairs."""
    text = url.removeprefix(SCHEME).strip().rstrip("/")
    if not text:
        raise ControlPlaneError(f"etcd endpoints {url!r}: none given")
    endpoints = []
    for part in text.split(","):
        split = urlsplit(f"//{part.strip()}")
        try:
            port = split.port
        except ValueError:
            port = None
        if not split.hostname or port is None:
            raise ControlPlaneError(f"etcd endpoint {part.strip()!r} in {url!r} is not host:port")
        endpoints.append((split.hostname, port))
    return endpoints


@dataclass(frozen=True, slots=True)
class EtcdAuth:
    """How to reach the cluster: TLS files (None: plain HTTP) and credentials (None: none)."""

    user: str | None = None
    password: str | None = None
    ca_cert: str | None = None
    cert_cert: str | None = None
    cert_key: str | None = None

    @property
    def tls(self) -> bool:
        return self.ca_cert is not None


@dataclass(frozen=True, slots=True)
class KeyValue:
    key: str
    value: str
    mod_revision: int
    create_revision: int
    lease: int


def _kv(raw: dict[str, Any]) -> KeyValue:
    return KeyValue(
        unb64(raw["key"]),
        unb64(raw.get("value", "")),
        int(raw.get("mod_revision", 0)),
        int(raw.get("create_revision", 0)),
        int(raw.get("lease", 0)),
    )


@dataclass(frozen=True, slots=True)
class WatchEvent:
    """One change: `value` is "" for a delete; `revision` is the change's."""

    deleted: bool
    key: str
    value: str
    revision: int


class EtcdSession:
    """One client of the cluster, safe to share between threads."""

    def __init__(
        self,
        endpoints: str | Sequence[tuple[str, int]],
        auth: EtcdAuth | None = None,
        timeout_s: float = 1.0,
    ) -> None:
        pairs = parse_endpoints(endpoints) if isinstance(endpoints, str) else list(endpoints)
        self.auth = auth or EtcdAuth()
        self.timeout_s = timeout_s
        protocol = "https" if self.auth.tls else "http"
        self._clients = [
            Etcd3Client(
                host,
                port,
                protocol,
                self.auth.ca_cert,
                self.auth.cert_key,
                self.auth.cert_cert,
                timeout_s,
                "/v3/",
            )
            for host, port in pairs
        ]
        for client in self._clients:
            # Only the configured TLS files and token count: with `trust_env`, requests
            # would let REQUESTS_CA_BUNDLE replace `ca_cert`, ~/.netrc replace the token
            # and HTTP(S)_PROXY route the control plane through a proxy.
            client.session.trust_env = False
        self.endpoints = [f"{host}:{port}" for host, port in pairs]
        self._lock = threading.Lock()
        self._current = 0
        self._auth_lock = threading.Lock()  # one authentication at a time
        self._token: str | None = None

    # -- requests --------------------------------------------------------------------------

    def call(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST `body` to `path` on the current endpoint, moving on to the next that answers
        when one is unreachable. ControlPlaneError when none answers or etcd refuses."""
        errors: list[str] = []
        for _ in range(len(self._clients)):
            with self._lock:
                index = self._current
            try:
                return self._post(index, path, body)
            except _UNREACHABLE as exc:
                errors.append(f"{self.endpoints[index]}: {describe(exc)}")
                with self._lock:
                    if self._current == index:
                        self._current = (index + 1) % len(self._clients)
            except Etcd3Exception as exc:
                raise ControlPlaneError(self._refusal(index, path, describe(exc))) from exc
        raise ControlPlaneError("no etcd endpoint answered: " + "; ".join(errors))

    def _post(self, index: int, path: str, body: dict[str, Any]) -> dict[str, Any]:
        client = self._clients[index]
        token = self._token_for(index)
        try:
            result: dict[str, Any] = client.post(
                client.get_url(path), json=body, headers=_headers(token)
            )
        except Etcd3Exception as exc:
            if token is None or not _stale(describe(exc)):
                raise
            self.drop_token(token)  # expired: once more with a new one
            result = client.post(
                client.get_url(path), json=body, headers=_headers(self._token_for(index))
            )
        return result

    def _token_for(self, index: int) -> str | None:
        """The token to send (None without a user), authenticating through endpoint
        `index` when there is none. ControlPlaneError when etcd refuses the user."""
        if self.auth.user is None:
            return None
        with self._auth_lock:
            if self._token is None:
                client = self._clients[index]
                try:
                    answer = client.post(
                        client.get_url("/auth/authenticate"),
                        json={"name": self.auth.user, "password": self.auth.password},
                    )
                except _UNREACHABLE:
                    raise
                except Etcd3Exception as exc:
                    raise ControlPlaneError(
                        f"etcd at {self.endpoints[index]} refused to authenticate user "
                        f"{self.auth.user!r}: {describe(exc)}"
                    ) from exc
                self._token = str(answer["token"])
            return self._token

    def drop_token(self, token: str) -> None:
        """Forget `token` (etcd no longer takes it): the next request authenticates again.
        A token another thread has already replaced is left alone."""
        with self._auth_lock:
            if self._token == token:
                self._token = None

    def _refusal(self, index: int, path: str, why: str) -> str:
        who = f" for user {self.auth.user!r}" if self.auth.user is not None else ""
        hint = ""
        if "permission denied" in why:
            hint = " (the user's role must grant readwrite on the fleet prefix)"
        elif "user name is empty" in why:
            hint = " (etcd requires authentication: set control_plane user and password_env)"
        return f"etcd at {self.endpoints[index]} refused {path}{who}: {why}{hint}"

    # -- key-value -------------------------------------------------------------------------

    def range(self, key: str, prefix: bool = False) -> tuple[int, list[KeyValue]]:
        """(revision, keys): one key, or every key under `key` when `prefix`."""
        answer = self.call("/kv/range", range_op(key, prefix))
        return int(answer["header"]["revision"]), [_kv(kv) for kv in answer.get("kvs", [])]

    def txn(
        self,
        compare: list[dict[str, Any]],
        success: list[dict[str, Any]],
        failure: list[dict[str, Any]] | None = None,
    ) -> tuple[bool, int, list[dict[str, Any]]]:
        """(succeeded, revision, responses) of one atomic transaction."""
        answer = self.call(
            "/kv/txn", {"compare": compare, "success": success, "failure": failure or []}
        )
        return (
            bool(answer.get("succeeded", False)),
            int(answer["header"]["revision"]),
            answer.get("responses", []),
        )

    # -- leases ----------------------------------------------------------------------------

    def grant(self, ttl_s: int) -> int:
        return int(self.call("/lease/grant", {"TTL": ttl_s})["ID"])

    def keepalive(self, lease: int) -> int:
        """Refresh `lease`; its TTL in seconds, or -1 if it has expired."""
        return int(self.call("/lease/keepalive", {"ID": lease})["result"].get("TTL", -1))

    def revoke(self, lease: int) -> None:
        # Expired already, or the cluster is gone: the lease then dies with its TTL.
        with contextlib.suppress(ControlPlaneError):
            self.call("/lease/revoke", {"ID": lease})

    # -- watch -----------------------------------------------------------------------------

    def watch(self, prefix: str, start_revision: int) -> WatchStream:
        """Every change under `prefix` from `start_revision`, on the endpoint in use."""
        errors = []
        for _ in range(len(self._clients)):
            with self._lock:
                index = self._current
            client = self._clients[index]
            body: dict[str, Any] = {
                "create_request": {
                    "key": b64(prefix),
                    "range_end": prefix_end(prefix),
                    "start_revision": start_revision,
                }
            }
            try:
                token = self._token_for(index)
                response = client.session.post(
                    client.get_url("/watch"),
                    json=body,
                    stream=True,
                    timeout=(self.timeout_s, None),
                    headers=_headers(token),
                )
                response.raise_for_status()
                # etcd answers a watch it refuses with a 200 stream whose first message
                # cancels it: the stream then drops the token, so the next watch gets a
                # new one rather than being refused with the same for ever.
                return WatchStream(response, None if token is None else token_dropper(self, token))
            except (requests.RequestException, *_UNREACHABLE) as exc:
                errors.append(f"{self.endpoints[index]}: {describe(exc)}")
                with self._lock:
                    if self._current == index:
                        self._current = (index + 1) % len(self._clients)
        raise ControlPlaneError("no etcd endpoint accepted a watch: " + "; ".join(errors))


class WatchStream:
    """One watch over the gateway's streaming response; iterate its batches, `close` it
    from any thread. The iteration ends (or raises ControlPlaneError) when the stream dies;
    the caller then watches again from the last revision it saw."""

    def __init__(
        self, response: requests.Response, on_token_refused: Callable[[], None] | None = None
    ) -> None:
        self._response = response
        self._on_token_refused = on_token_refused
        # The socket under the stream: closing the response from another thread would wait
        # for the reader's buffer lock (forever, on a frozen node); shutting the socket
        # down wakes the reader at once instead.
        connection = getattr(response.raw, "_connection", None)
        self._sock: socket.socket | None = getattr(connection, "sock", None)

    def batches(self) -> Iterator[tuple[int, list[WatchEvent]]]:
        """(header revision, events) per message; ControlPlaneError on compaction/cancel."""
        try:
            for line in self._response.iter_lines():
                if not line.strip():
                    continue
                result = json.loads(line).get("result", {})
                if result.get("canceled") or result.get("compact_revision"):
                    reason = _etcd_words(str(result.get("cancel_reason", "")))
                    if _stale(reason) and self._on_token_refused is not None:
                        self._on_token_refused()
                    raise ControlPlaneError(
                        "etcd cancelled the watch"
                        + (f": {reason}" if reason else "")
                        + (
                            f" (compacted at {result['compact_revision']})"
                            if result.get("compact_revision")
                            else ""
                        )
                    )
                revision = int(result.get("header", {}).get("revision", 0))
                events = [_event(e) for e in result.get("events", [])]
                yield revision, events
        except (requests.RequestException, ValueError, AttributeError) as exc:
            raise ControlPlaneError(f"etcd watch stream ended: {describe(exc)}") from exc

    def release(self) -> None:
        """Free the connection (the reading thread, once its iteration ended)."""
        with contextlib.suppress(Exception):
            self._response.close()

    def close(self) -> None:
        """End the stream from any thread: the reader's iteration ends at once."""
        with contextlib.suppress(OSError):
            if self._sock is not None:
                self._sock.shutdown(socket.SHUT_RDWR)


def _event(raw: dict[str, Any]) -> WatchEvent:
    kv = raw["kv"]
    deleted = raw.get("type") == "DELETE"
    value = "" if deleted else unb64(kv.get("value", ""))
    return WatchEvent(deleted, unb64(kv["key"]), value, int(kv.get("mod_revision", 0)))


def range_op(key: str, prefix: bool = False) -> dict[str, Any]:
    body = {"key": b64(key)}
    if prefix:
        body["range_end"] = prefix_end(key)
    return body


def put_op(key: str, value: str, lease: int = 0) -> dict[str, Any]:
    body: dict[str, Any] = {"key": b64(key), "value": b64(value)}
    if lease:
        body["lease"] = lease
    return {"request_put": body}


def delete_op(key: str, prefix: bool = False) -> dict[str, Any]:
    return {"request_delete_range": range_op(key, prefix)}


def get_op(key: str, prefix: bool = False) -> dict[str, Any]:
    return {"request_range": range_op(key, prefix)}


def mod_is(key: str, revision: int) -> dict[str, Any]:
    """Compare: `key` was last changed at `revision` (0: `key` does not exist)."""
    if revision == 0:
        return {"key": b64(key), "target": "VERSION", "result": "EQUAL", "version": 0}
    return {"key": b64(key), "target": "MOD", "result": "EQUAL", "mod_revision": revision}


def lease_is(key: str, lease: int) -> dict[str, Any]:
    """Compare: `key` exists under `lease`."""
    return {"key": b64(key), "target": "LEASE", "result": "EQUAL", "lease": lease}


def value_is(key: str, value: str) -> dict[str, Any]:
    return {"key": b64(key), "target": "VALUE", "result": "EQUAL", "value": b64(value)}


def exists(key: str) -> dict[str, Any]:
    return {"key": b64(key), "target": "VERSION", "result": "GREATER", "version": 0}


def kvs_of(response: dict[str, Any]) -> list[KeyValue]:
    """The keys a `get_op` inside a transaction returned."""
    return [_kv(kv) for kv in response.get("response_range", {}).get("kvs", [])]


def token_dropper(session: EtcdSession, token: str) -> Callable[[], None]:
    return lambda: session.drop_token(token)


def _headers(token: str | None) -> dict[str, str]:
    return {"Authorization": token} if token else {}


def _stale(why: str) -> bool:
    return any(words in why for words in _STALE_TOKEN)


_SSL = re.compile(r"\[SSL(?:: [A-Z0-9_]+)?\] ([^(']+?)\s*\(_ssl")
# How a server that wants a client certificate and got none hangs up (TLS 1.2 / 1.3).
_NO_CLIENT_CERT = ("EOF occurred", "alert bad certificate", "alert certificate required")
_SSL_ERROR = re.compile(r"SSL\w*Error\(\d+, '([^'(]+?)\s*\(_ssl")
_ERRNO = re.compile(r"\[Errno -?\d+\] [^'\")]+")


def describe(exc: BaseException) -> str:
    """One line on why a request failed: etcd's own message (from the JSON body etcd3gw
    keeps in `detail_text`), the TLS verdict or the socket error, not a traceback's worth
    of urllib3 wrappers."""
    detail = getattr(exc, "detail_text", None)
    text = str(detail) if detail else str(exc)
    try:
        body = json.loads(text)
        if isinstance(body, dict) and (body.get("message") or body.get("error")):
            text = str(body.get("message") or body.get("error"))
    except ValueError:
        pass
    ssl_error = _SSL.search(text) or _SSL_ERROR.search(text)
    if ssl_error:
        why = ssl_error.group(1)
        if any(words in why for words in _NO_CLIENT_CERT):
            why += " (the server may require a client certificate: cert and key)"
        return f"TLS handshake failed: {why}"
    if "SSLError" in text or "SSL" in type(exc).__name__:
        return "TLS handshake failed: " + _first_line(text)
    errno = _ERRNO.search(text)
    if errno and "Max retries" in text:
        return errno.group(0).strip()
    if isinstance(exc, ConnectionTimeoutError | requests.Timeout) or "timed out" in text:
        return "timed out"
    return _etcd_words(_first_line(text or type(exc).__name__))


def _etcd_words(text: str) -> str:
    """etcd's message without its transport wrappers: `rpc error: code = X desc =
    etcdserver: permission denied` is `permission denied`."""
    return text.rsplit("desc = ", 1)[-1].removeprefix("etcdserver: ").strip()


def _first_line(text: str) -> str:
    text = text.strip()
    return text.splitlines()[0][:300] if text else ""
