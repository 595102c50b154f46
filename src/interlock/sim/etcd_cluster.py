"""A real N-node etcd cluster on 127.0.0.1 for tests, benchmarks and fault tests.

The etcd control plane is only as trustworthy as the tests that break its cluster, so the
cluster is real: N `etcd` processes (the Debian 3.4 binary) with their own client and peer
ports and data dirs under one temp dir, tuned to elect fast (50 ms heartbeat, 500 ms
election timeout). A test can SIGKILL, stop, restart (same data dir, it rejoins), pause
and resume any node. Every wait has a deadline and fails with the nodes' log tails.

    with EtcdCluster() as cluster:            # healthy on return (~2.5 s for 3 nodes)
        cluster.endpoints                     # "127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3"
        cluster.kill(0); cluster.wait_writable(5.0)

    EtcdCluster(tls=make_tls(tmp))            # clients over HTTPS (peers stay plain HTTP)
    EtcdCluster(tls=..., client_cert_auth=True)   # clients must show a certificate too
    cluster.etcdctl("user", "add", "root:pw") # etcdctl on these endpoints, TLS flags set

Checks talk to etcd's HTTP/JSON gateway (`/health`, `/v3/kv/put`, ...) with the standard
library, so this module needs nothing the control plane does. Logs go to `<dir>/nN.log`.
By hand: `python -m interlock.sim.etcd_cluster [--nodes N]` runs one until Ctrl-C.
"""

from __future__ import annotations

import atexit
import base64
import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from interlock.sim.procs import die_with_parent, free_ports, stop_process
from interlock.sim.tls import TlsFiles

ETCD_HINT = "install it: apt-get install etcd-server etcd-client (scripts/test.sh does)"


class EtcdClusterError(RuntimeError):
    """The cluster did not start, become healthy or writable in time (the message says
    which node and ends with the nodes' log tails)."""


@dataclass(frozen=True, slots=True)
class EtcdNode:
    """One member's fixed identity: it keeps these ports and data dir across restarts."""

    name: str
    client_port: int
    peer_port: int
    data_dir: Path
    log: Path
    scheme: str = "http"  # of the client URL: "https" when the cluster serves TLS

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.client_port}"

    @property
    def peer_url(self) -> str:
        return f"http://127.0.0.1:{self.peer_port}"


def etcd_binary() -> str:
    """The `etcd` on PATH; raise `EtcdClusterError` naming the fix when there is none."""
    found = shutil.which("etcd")
    if found is None:
        raise EtcdClusterError(f"etcd is not on PATH: {ETCD_HINT}")
    return found


class EtcdCluster:
    """N etcd processes forming one cluster; a context manager (`close()` on exit)."""

    def __init__(
        self,
        nodes: int = 3,
        *,
        base_dir: Path | None = None,
        start_timeout: float = 15.0,
        heartbeat_ms: int = 50,
        election_ms: int = 500,
        tls: TlsFiles | None = None,
        client_cert_auth: bool = False,
        extra_args: Sequence[str] = (),
    ) -> None:
        """`tls`: serve clients over HTTPS with its server certificate; `client_cert_auth`:
        refuse clients without a certificate its CA signed; `extra_args` go to every node
        (e.g. `--auth-token-ttl 1`)."""
        if nodes < 1:
            raise ValueError(f"an etcd cluster needs at least one node, not {nodes}")
        self._binary = etcd_binary()
        self._dir = Path(tempfile.mkdtemp(prefix="interlock-etcd-", dir=base_dir))
        self._tuning = (
            "--heartbeat-interval",
            str(heartbeat_ms),
            "--election-timeout",
            str(election_ms),
            *self._tls_args(tls, client_cert_auth),
            *extra_args,
        )
        self.tls = tls
        self._ssl = self._ssl_context(tls)
        self._procs: dict[int, subprocess.Popen[bytes]] = {}
        self._nodes: tuple[EtcdNode, ...] = ()
        self._closed = False
        atexit.register(self.close)
        try:
            self._start_all(nodes, start_timeout)
        except BaseException:
            self.close()
            raise

    # -- where clients connect ----------------------------------------------------------

    @property
    def dir(self) -> Path:
        return self._dir

    @property
    def nodes(self) -> tuple[EtcdNode, ...]:
        return self._nodes

    @property
    def urls(self) -> list[str]:
        """Each node's client URL, `http(s)://127.0.0.1:PORT`, in node order."""
        return [n.url for n in self._nodes]

    @property
    def client_ports(self) -> list[int]:
        return [n.client_port for n in self._nodes]

    @property
    def endpoints(self) -> str:
        """`127.0.0.1:p1,127.0.0.1:p2,...`: what `--control-plane etcd://...` takes."""
        return ",".join(f"127.0.0.1:{n.client_port}" for n in self._nodes)

    def pid(self, i: int) -> int | None:
        """Node `i`'s process id while it runs, else None."""
        return self._procs[i].pid if self.is_running(i) else None

    def is_running(self, i: int) -> bool:
        proc = self._procs.get(i)
        return proc is not None and proc.poll() is None

    # -- faults -------------------------------------------------------------------------

    def kill(self, i: int) -> None:
        """SIGKILL node `i` (a crash: no goodbye to its peers) and reap it."""
        proc = self._procs.pop(i)
        proc.kill()
        proc.wait(5.0)

    def stop(self, i: int) -> None:
        """SIGTERM node `i` (a clean shutdown) and reap it, SIGKILL after 5 s."""
        stop_process(self._procs.pop(i))

    def restart(self, i: int, timeout: float = 10.0) -> None:
        """Start node `i` again on its own ports and data dir; return once it is healthy
        (which needs a quorum of the cluster to be up)."""
        if self.is_running(i):
            self.stop(i)
        self._spawn(i, "existing")
        self._wait_healthy([i], time.monotonic() + timeout)

    def pause(self, i: int) -> None:
        """SIGSTOP node `i`: alive, holding its sockets, answering nothing (a GC pause, a
        hung VM)."""
        self._procs[i].send_signal(signal.SIGSTOP)

    def resume(self, i: int) -> None:
        self._procs[i].send_signal(signal.SIGCONT)

    # -- checks -------------------------------------------------------------------------

    def healthy(self, i: int, timeout: float = 0.5) -> bool:
        """Node `i` answers `/health` with `"health": "true"` (it sees a leader)."""
        try:
            body = self._request(i, "/health", None, timeout)
        except (OSError, ValueError):
            return False
        return str(body.get("health")) == "true"

    def put(self, key: str, value: str, node: int = 0, timeout: float = 1.0) -> int:
        """Put through node `node`; return the new revision. Raise `OSError` (URLError,
        timeout) when the node cannot commit it within `timeout` seconds."""
        body = self._request(node, "/v3/kv/put", {"key": _b64(key), "value": _b64(value)}, timeout)
        return int(body["header"]["revision"])

    def get(self, key: str, node: int = 0, timeout: float = 1.0) -> str | None:
        """Linearizable read of `key` through node `node`; None when it is absent."""
        body = self._request(node, "/v3/kv/range", {"key": _b64(key)}, timeout)
        kvs = body.get("kvs") or []
        return base64.b64decode(kvs[0]["value"]).decode() if kvs else None

    def wait_writable(self, timeout: float = 10.0, key: str = "/interlock-probe") -> int:
        """Wait until a put succeeds through some running node; return that node.
        Raise `EtcdClusterError` (with log tails) at the deadline."""
        deadline = time.monotonic() + timeout
        while True:
            for i in sorted(self._procs):
                if not self.is_running(i):
                    continue
                left = deadline - time.monotonic()
                try:
                    self.put(key, "probe", node=i, timeout=max(0.05, min(0.5, left)))
                    return i
                except (OSError, ValueError, KeyError):
                    pass
            if time.monotonic() >= deadline:
                raise EtcdClusterError(self._report(f"not writable within {timeout} s"))
            time.sleep(0.05)

    def leader(self, timeout: float = 0.5) -> int | None:
        """The index of the node the running nodes agree leads, or None (no leader seen)."""
        ids: dict[int, int] = {}
        leaders: set[int] = set()
        for i in sorted(self._procs):
            try:
                status = self._request(i, "/v3/maintenance/status", {}, timeout)
            except (OSError, ValueError):
                continue
            ids[int(status["header"]["member_id"])] = i
            if int(status.get("leader", 0)):
                leaders.add(int(status["leader"]))
        agreed = [ids[m] for m in leaders if m in ids]
        return agreed[0] if len(leaders) == 1 and agreed else None

    def etcdctl(self, *args: str, timeout: float = 10.0) -> str:
        """Run `etcdctl` (API v3) on this cluster's endpoints, with its TLS files; its
        output. Raise `EtcdClusterError` with etcdctl's words when it fails."""
        argv = [shutil.which("etcdctl") or "etcdctl", f"--endpoints={','.join(self.urls)}"]
        if self.tls is not None:
            t = self.tls
            argv += [f"--cacert={t.ca_cert}", f"--cert={t.client_cert}", f"--key={t.client_key}"]
        done = subprocess.run([*argv, *args], capture_output=True, text=True, timeout=timeout,
                              env=dict(os.environ, ETCDCTL_API="3"),
                              check=False)  # fmt: skip
        if done.returncode != 0:
            raise EtcdClusterError(f"etcdctl {' '.join(args)}: {done.stderr.strip()}")
        return done.stdout

    def log_tail(self, i: int, lines: int = 15) -> str:
        try:
            text = self._nodes[i].log.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    # -- lifetime -----------------------------------------------------------------------

    def close(self) -> None:
        """Stop every node (SIGKILL: the data is thrown away) and remove the temp dir."""
        if self._closed:
            return
        self._closed = True
        for i in list(self._procs):
            proc = self._procs.pop(i)
            if proc.poll() is None:
                proc.kill()
            proc.wait(5.0)
        shutil.rmtree(self._dir, ignore_errors=True)
        atexit.unregister(self.close)

    def __enter__(self) -> EtcdCluster:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- inside -------------------------------------------------------------------------

    def _start_all(self, count: int, timeout: float) -> None:
        # A free port can be taken by someone else before etcd binds it: start again on
        # fresh ports (fresh data dirs too), a bounded number of times.
        for attempt in range(3):
            ports = free_ports(2 * count)
            base = self._dir / f"try{attempt}"
            scheme = "https" if self.tls else "http"
            nodes = []
            for i in range(count):
                client, peer = ports[2 * i], ports[2 * i + 1]
                dir_, log = base / f"n{i}", base / f"n{i}.log"
                nodes.append(EtcdNode(f"n{i}", client, peer, dir_, log, scheme))
            self._nodes = tuple(nodes)
            base.mkdir()
            for i in range(count):
                self._spawn(i, "new")
            try:
                self._wait_healthy(list(range(count)), time.monotonic() + timeout)
                return
            except EtcdClusterError:
                if attempt == 2 or not self._port_clash():
                    raise
                for i in list(self._procs):
                    self.kill(i)

    @staticmethod
    def _tls_args(tls: TlsFiles | None, client_cert_auth: bool) -> list[str]:
        if tls is None:
            if client_cert_auth:
                raise ValueError("client_cert_auth needs tls (the CA that signs clients)")
            return []
        args = [f"--cert-file={tls.server_cert}", f"--key-file={tls.server_key}"]
        if client_cert_auth:
            args += ["--client-cert-auth", f"--trusted-ca-file={tls.ca_cert}"]
        return args

    @staticmethod
    def _ssl_context(tls: TlsFiles | None) -> ssl.SSLContext | None:
        """How this module's own checks reach an HTTPS cluster (a client cert always: it is
        needed with `client_cert_auth` and harmless without)."""
        if tls is None:
            return None
        context = ssl.create_default_context(cafile=str(tls.ca_cert))
        context.load_cert_chain(str(tls.client_cert), str(tls.client_key))
        return context

    def _port_clash(self) -> bool:
        return any(
            "address already in use" in self.log_tail(i, 40) for i in range(len(self._nodes))
        )

    def _spawn(self, i: int, state: str) -> None:
        node = self._nodes[i]
        cluster = ",".join(f"{n.name}={n.peer_url}" for n in self._nodes)
        argv = [
            self._binary,
            "--name",
            node.name,
            "--data-dir",
            str(node.data_dir),
            "--listen-client-urls",
            node.url,
            "--advertise-client-urls",
            node.url,
            "--listen-peer-urls",
            node.peer_url,
            "--initial-advertise-peer-urls",
            node.peer_url,
            "--initial-cluster",
            cluster,
            "--initial-cluster-state",
            state,
            "--initial-cluster-token",
            self._dir.name,
            "--logger",
            "zap",
            *self._tuning,
        ]
        with node.log.open("ab") as log:
            self._procs[i] = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=die_with_parent,
                start_new_session=True,
            )

    def _wait_healthy(self, which: list[int], deadline: float) -> None:
        waiting = set(which)
        while waiting:
            for i in sorted(waiting):
                if not self.is_running(i):
                    raise EtcdClusterError(self._report(f"node {i} exited while starting"))
                if self.healthy(i, timeout=max(0.05, min(0.5, deadline - time.monotonic()))):
                    waiting.discard(i)
            if waiting and time.monotonic() >= deadline:
                raise EtcdClusterError(self._report(f"nodes {sorted(waiting)} not healthy"))
            if waiting:
                time.sleep(0.05)

    def _request(
        self, i: int, path: str, payload: dict[str, str] | None, timeout: float
    ) -> dict[str, Any]:
        data = None if payload is None else json.dumps(payload).encode()
        req = urllib.request.Request(self._nodes[i].url + path, data=data)
        with urllib.request.urlopen(req, timeout=timeout, context=self._ssl) as resp:
            body: dict[str, Any] = json.loads(resp.read())
        return body

    def _report(self, what: str) -> str:
        tails = "\n".join(
            f"--- {n.name} ({n.url}, log {n.log}):\n{self.log_tail(i)}"
            for i, n in enumerate(self._nodes)
        )
        return f"etcd cluster in {self._dir}: {what}\n{tails}"


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def main(argv: list[str] | None = None) -> int:
    """Run a cluster in the foreground until Ctrl-C, for debugging by hand."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m interlock.sim.etcd_cluster")
    parser.add_argument("--nodes", type=int, default=3)
    args = parser.parse_args(argv)
    # Ctrl-C or SIGTERM (even when started in the background) stops the nodes and cleans up.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    with EtcdCluster(args.nodes) as cluster:
        print(f"etcd cluster healthy, logs in {cluster.dir}")
        print(f"  endpoints: {cluster.endpoints}")
        print(f"  etcdctl --endpoints={cluster.endpoints} endpoint status -w table")
        print("Ctrl-C (or SIGTERM) stops it and removes the dir.", flush=True)
        try:
            while all(cluster.is_running(i) for i in range(len(cluster.nodes))):
                time.sleep(0.5)
            print("a node exited; stopping", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            return 0


if __name__ == "__main__":
    sys.exit(main())
