"""The etcd test cluster and the partition tool do what fault tests rely on.

Real etcd processes on 127.0.0.1; every wait has a deadline. Fault tests use a fresh
cluster from `etcd_cluster_factory`; the shared `etcd_cluster` is only read and written.
"""

from __future__ import annotations

import queue
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from interlock.sim.etcd_cluster import EtcdCluster, EtcdClusterError
from interlock.sim.partition import Partition

Factory = Callable[..., EtcdCluster]


def test_cluster_starts_healthy_with_one_leader(etcd_cluster: EtcdCluster) -> None:
    assert all(etcd_cluster.healthy(i) for i in range(3))
    assert etcd_cluster.leader() in (0, 1, 2)
    ports = etcd_cluster.client_ports
    assert len(set(ports) | {n.peer_port for n in etcd_cluster.nodes}) == 6
    assert etcd_cluster.endpoints == ",".join(f"127.0.0.1:{p}" for p in ports)
    assert etcd_cluster.urls == [f"http://127.0.0.1:{p}" for p in ports]


def test_a_put_through_node_1_is_read_through_node_3(
    etcd_cluster: EtcdCluster, etcd_prefix: str
) -> None:
    etcd_cluster.put(etcd_prefix + "k", "v1", node=0)
    assert etcd_cluster.get(etcd_prefix + "k", node=2) == "v1"


def test_killing_the_leader_of_three_keeps_the_cluster_writable(
    etcd_cluster_factory: Factory,
) -> None:
    cluster = etcd_cluster_factory()
    leader = cluster.leader()
    assert leader is not None
    cluster.kill(leader)
    assert not cluster.is_running(leader)
    node = cluster.wait_writable(timeout=5.0)
    assert node != leader
    assert cluster.leader() not in (None, leader)


def test_killing_two_of_three_stops_writes_until_one_restarts(
    etcd_cluster_factory: Factory,
) -> None:
    cluster = etcd_cluster_factory()
    cluster.kill(0)
    cluster.kill(1)
    started = time.monotonic()
    with pytest.raises(OSError):
        cluster.put("/no-quorum", "x", node=2, timeout=1.0)
    assert time.monotonic() - started < 3.0
    with pytest.raises(EtcdClusterError, match="not writable"):
        cluster.wait_writable(timeout=1.0)
    cluster.restart(1)
    assert cluster.wait_writable(timeout=5.0) in (1, 2)
    cluster.put("/quorum-back", "y", node=1)
    assert cluster.get("/quorum-back", node=2) == "y"


def test_a_paused_node_misses_nothing_after_it_resumes(etcd_cluster_factory: Factory) -> None:
    cluster = etcd_cluster_factory()
    leader = cluster.leader()
    assert leader is not None
    cluster.pause(leader)
    assert not cluster.healthy(leader, timeout=0.3)
    other = cluster.wait_writable(timeout=5.0)
    cluster.put("/while-paused", "z", node=other)
    cluster.resume(leader)
    deadline = time.monotonic() + 5.0
    while not cluster.healthy(leader) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert cluster.get("/while-paused", node=leader) == "z"


def test_close_stops_every_node_and_removes_its_dir(etcd_cluster_factory: Factory) -> None:
    cluster = etcd_cluster_factory(nodes=1)
    where = cluster.dir
    assert (where / "try0" / "n0.log").exists()
    cluster.close()
    assert not cluster.is_running(0)
    assert not where.exists()


def test_etcd_nodes_die_when_the_process_that_started_them_is_killed() -> None:
    script = (
        "from interlock.sim.etcd_cluster import EtcdCluster; import time; "
        "c = EtcdCluster(1); print(c.pid(0), c.dir, flush=True); time.sleep(60)"
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        pid, where = parent.stdout.readline().split()
        assert Path(f"/proc/{pid}").exists()
    finally:
        parent.kill()
        parent.wait(5.0)
    deadline = time.monotonic() + 5.0
    while _alive(int(pid)) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not _alive(int(pid))
    shutil.rmtree(where, ignore_errors=True)  # a SIGKILLed parent cannot clean up


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_no_etcd_on_path_fails_with_the_install_command(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(EtcdClusterError, match="apt-get install etcd-server"):
        EtcdCluster(1)


# The child under partition: one kept-alive HTTP connection and a watch stream to one etcd
# port. On stdin "kept V"/"new V" it puts V at KEYp through the kept or a fresh connection
# and answers "ok"/"fail"; it prints "event VALUE" for each watched put.
CHILD = r"""
import base64, http.client, json, sys, threading
port, key = int(sys.argv[1]), sys.argv[2]
b64 = lambda s: base64.b64encode(s.encode()).decode()
def put(conn, value):
    conn.request("POST", "/v3/kv/put", json.dumps({"key": b64(key + "p"), "value": b64(value)}))
    conn.getresponse().read()
def watch():
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("POST", "/v3/watch", json.dumps({"create_request": {"key": b64(key + "w")}}))
    for line in conn.getresponse():
        for ev in json.loads(line).get("result", {}).get("events", []):
            print("event", base64.b64decode(ev["kv"]["value"]).decode(), flush=True)
threading.Thread(target=watch, daemon=True).start()
fresh = lambda: http.client.HTTPConnection("127.0.0.1", port, timeout=0.5)
kept = fresh()
for cmd in sys.stdin:
    how, value = cmd.split()
    conn = kept if how == "kept" else fresh()
    try:
        put(conn, value); print("ok", flush=True)
    except OSError:
        print("fail", flush=True); conn.close()
"""


class Child:
    """Drives CHILD: lines out are sorted into answers and watch events."""

    def __init__(self, part: Partition) -> None:
        self.part = part
        self.answers: queue.Queue[str] = queue.Queue()
        self.events: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.part.process.stdout is not None
        for raw in self.part.process.stdout:
            line = raw.decode().strip()
            (self.events if line.startswith("event") else self.answers).put(line)

    def ask(self, cmd: str) -> str:
        assert self.part.process.stdin is not None
        self.part.process.stdin.write(cmd.encode() + b"\n")
        self.part.process.stdin.flush()
        return self.answers.get(timeout=5.0)

    def ask_until_ok(self, cmd: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.ask(cmd) == "ok":
                return True
        return False


def test_partition_cuts_only_the_child_and_heal_restores_it(
    etcd_cluster: EtcdCluster, etcd_prefix: str
) -> None:
    port = etcd_cluster.client_ports[0]
    argv = [sys.executable, "-c", CHILD, str(port), etcd_prefix]
    with Partition(argv, ports=[port], stdin=subprocess.PIPE, stdout=subprocess.PIPE) as part:
        child = Child(part)
        assert child.ask("kept before") == "ok"
        etcd_cluster.put(etcd_prefix + "w", "before", node=0)
        assert child.events.get(timeout=5.0) == "event before"

        part.isolate()
        assert part.isolated == {port}
        assert child.ask("kept during") == "fail"  # an established connection hangs
        assert child.ask("new during") == "fail"  # a new one never connects
        etcd_cluster.put(etcd_prefix + "w", "during", node=0)  # others still reach etcd
        with pytest.raises(queue.Empty):  # and nothing flows back to the child
            child.events.get(timeout=1.0)
        assert etcd_cluster.get(etcd_prefix + "p", node=0) == "before"  # nor out of it

        part.heal()
        assert child.ask_until_ok("new after", timeout=5.0)
        assert etcd_cluster.get(etcd_prefix + "p", node=0) == "after"
        assert child.events.get(timeout=10.0) == "event during"  # the watch resumes
    assert part.process.poll() is not None
    rules = subprocess.run(["iptables", "-S"], capture_output=True, text=True, check=True)
    assert part.cgroup.name not in rules.stdout
    assert not part.cgroup.exists()
