"""Knight's deploy with eight real `interlock serve` processes on a real 3-node etcd.

The technician's copy of the new build reaches seven servers; the eighth keeps running the
old code. Here the new build is a real copy of the package with one file changed (so its
attested digest really differs), the operator works through a member's admin port, and:
the commit is refused naming the straggler; the straggler routes nothing once the seven
have restarted (its build has lost the quorum, then the epoch); the seven are released
without it (epoch fencing keeps it out); and a halt from the admin port of any one member
is confirmed by all eight.
"""

from __future__ import annotations

from pathlib import Path

import httpx
from test_etcd_faults import order

from conftest import FleetFactory
from interlock.control.attestation import tree_digest
from interlock.sim.etcd_cluster import EtcdCluster
from interlock.sim.serve_fleet import ServeFleet, build_copy, wait_until

SERVERS = [f"gw-{i}" for i in range(1, 9)]
SEVEN, STALE = SERVERS[:7], SERVERS[7]


def admin_post(fleet: ServeFleet, via: str, path: str, body: object = None) -> httpx.Response:
    m = fleet[via]
    return httpx.post(f"{m.admin_url}{path}", json=body, timeout=15,
                      headers={"Authorization": "Bearer demo-admin-token"})  # fmt: skip


def test_the_knight_deploy_on_eight_serve_processes_misses_one_and_it_routes_nothing(
    etcd_cluster: EtcdCluster, serve_fleet: FleetFactory, tmp_path: Path
) -> None:
    fleet = serve_fleet(etcd_cluster)
    fleet.start_all(SERVERS)
    wait_until(lambda: all(fleet[i].gate() == "routing" for i in SERVERS), 60, "8 routing")
    assert order(fleet[STALE]) == "accepted"  # before the deploy, the old build trades
    epoch = fleet["gw-1"].fleet()["epoch"]

    new = build_copy(tmp_path / "rlp-build", "# RLP: the new build\n")
    digest = tree_digest(new / "interlock")
    r = admin_post(fleet, "gw-1", "/deploy/propose", {"build_digest": digest, "members": SERVERS})
    assert r.status_code == 200, r.text
    straggler: list[str] = []  # from the moment the seven run the new build
    for server in SEVEN:  # the copy did not reach gw-8
        fleet[server].stop()
        fleet.start(server, build_dir=new)
    for server in SEVEN:
        fleet[server].wait_started(60)
    straggler.append(order(fleet[STALE]))

    r = admin_post(fleet, "gw-3", "/deploy/commit")
    assert r.status_code == 409, r.text
    refusal = r.json()
    assert refusal["code"] == "DEPLOY_REFUSED"
    assert f"{STALE}: attests build" in refusal["message"]
    assert all(f"{s}:" not in refusal["message"] for s in SEVEN)
    straggler.append(order(fleet[STALE]))

    assert admin_post(fleet, "gw-2", "/deploy/abort", {"reason": "gw-8 kept the old build"}
                      ).status_code == 200  # fmt: skip
    r = admin_post(fleet, "gw-2", "/deploy/propose", {"build_digest": digest, "members": SEVEN})
    assert r.status_code == 200, r.text
    r = admin_post(fleet, "gw-4", "/deploy/commit")
    assert r.status_code == 200, r.text
    assert r.json()["epoch"] == epoch + 1
    wait_until(lambda: all(fleet[i].gate() == "routing" for i in SEVEN), 20, "the seven route")
    assert all(order(fleet[i]) == "accepted" for i in SEVEN)
    straggler += [order(fleet[STALE]) for _ in range(3)]
    assert "accepted" not in straggler, straggler
    assert set(straggler) <= {"FLEET_NO_QUORUM", "INSTANCE_NOT_ATTESTED", "STALE_EPOCH"}
    assert fleet[STALE].gate() in {"INSTANCE_NOT_ATTESTED", "STALE_EPOCH"}

    report = fleet["gw-5"].halt("kill switch from one member's admin port")
    assert report["complete"], report["summary"]
    assert sorted(report["confirmed"]) == sorted(SERVERS), report["summary"]
    assert report["summary"].startswith("8/8 halted in ")
    assert {order(fleet[i]) for i in SEVEN} == {"HALTED"}
    assert order(fleet[STALE]) in {"INSTANCE_NOT_ATTESTED", "STALE_EPOCH"}  # the gate first
