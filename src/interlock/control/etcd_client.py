"""A synchronous etcd v3 session over several endpoints: failover, TLS, user and password.

Built on `etcd3gw` (etcd's HTTP/JSON gateway): it gives each endpoint a `requests` session
with TLS and client certificates set, and maps HTTP failures to its exceptions; this module
adds what it lacks: a list of endpoints tried in turn (a dead node is skipped, the next
answers), authentication (etcd's `/auth/authenticate` token, sent as a header and renewed
when etcd says it expired), and a watch stream that reports its own end and its headers'
revisions (etcd3gw's `Watcher` swallows both, and the plane needs them to know how fresh
its view is). Every failure of the cluster surfaces as `ControlPlaneError`.

Calls are raw gateway requests (`kv/range`, `kv/txn`, `lease/grant`, ...) and return the
gateway's JSON decoded, with keys and values as text and revisions as ints.
"""

from __future__ import annotations

import base64
import contextlib
import json
import socket
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from etcd3gw.client import Etcd3Client
from etcd3gw.exceptions import ConnectionFailedError, ConnectionTimeoutError, Etcd3Exception

from interlock.errors import ControlPlaneError

SCHEME = "etcd://"
_UNREACHABLE = (ConnectionFailedError, ConnectionTimeoutError)


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
        self.endpoints = [f"{host}:{port}" for host, port in pairs]
        self._lock = threading.Lock()
        self._current = 0
        self._token: str | None = None

    # -- requests --------------------------------------------------------------------------

    def call(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST `body` to `path` on the current endpoint, moving on to the next that answers
        when one is unreachable. ControlPlaneError when none answers or etcd refuses."""
        errors: list[str] = []
        for _ in range(len(self._clients)):
            with self._lock:
                index = self._current
            client = self._clients[index]
            try:
                return self._post(client, path, body)
            except _UNREACHABLE as exc:
                errors.append(f"{self.endpoints[index]}: {_first_line(exc)}")
                with self._lock:
                    if self._current == index:
                        self._current = (index + 1) % len(self._clients)
            except Etcd3Exception as exc:
                raise ControlPlaneError(f"etcd refused {path}: {_first_line(exc)}") from exc
        raise ControlPlaneError("no etcd endpoint answered: " + "; ".join(errors))

    def _post(self, client: Etcd3Client, path: str, body: dict[str, Any]) -> dict[str, Any]:
        if self.auth.user is not None and self._token is None:
            self._authenticate(client)
        try:
            result: dict[str, Any] = client.post(
                client.get_url(path), json=body, headers=self._headers()
            )
        except Etcd3Exception as exc:
            if self.auth.user is None or "token" not in str(exc):
                raise
            self._authenticate(client)  # the token expired: once more with a new one
            result = client.post(client.get_url(path), json=body, headers=self._headers())
        return result

    def _headers(self) -> dict[str, str]:
        return {"Authorization": self._token} if self._token else {}

    def _authenticate(self, client: Etcd3Client) -> None:
        answer = client.post(
            client.get_url("/auth/authenticate"),
            json={"name": self.auth.user, "password": self.auth.password},
        )
        self._token = str(answer["token"])

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
                if self.auth.user is not None and self._token is None:
                    self._authenticate(client)
                response = client.session.post(
                    client.get_url("/watch"),
                    json=body,
                    stream=True,
                    timeout=(self.timeout_s, None),
                    headers=self._headers(),
                )
                response.raise_for_status()
                return WatchStream(response)
            except (requests.RequestException, *_UNREACHABLE) as exc:
                errors.append(f"{self.endpoints[index]}: {_first_line(exc)}")
                with self._lock:
                    if self._current == index:
                        self._current = (index + 1) % len(self._clients)
        raise ControlPlaneError("no etcd endpoint accepted a watch: " + "; ".join(errors))


class WatchStream:
    """One watch over the gateway's streaming response; iterate its batches, `close` it
    from any thread. The iteration ends (or raises ControlPlaneError) when the stream dies;
    the caller then watches again from the last revision it saw."""

    def __init__(self, response: requests.Response) -> None:
        self._response = response
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
                    raise ControlPlaneError(
                        "etcd cancelled the watch"
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
            raise ControlPlaneError(f"etcd watch stream ended: {_first_line(exc)}") from exc

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


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]
