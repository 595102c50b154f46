"""One instance id, one live member: a second process configured with an id a live member
holds is refused, and a process killed before it could leave is replaced once its lease
runs out (its restart waits for that, at most a TTL and a second)."""

from __future__ import annotations

import signal
import uuid
from pathlib import Path

import pytest
from test_etcd_faults import order

from conftest import FleetFactory
from interlock.control.etcd_plane import EtcdControlPlane
from interlock.control.plane import Attestation
from interlock.errors import ControlPlaneError, InstanceIdInUse
from interlock.sim.etcd_cluster import EtcdCluster
from interlock.sim.serve_fleet import ServeFleet, wait_until

TTL_NS = 2_000_000_000


def att(pid: int) -> Attestation:
    return Attestation("gw-1", "b1", "f1", "cfg", "host", pid)


def test_a_second_plane_client_cannot_take_a_live_members_id_nor_drop_it(
    etcd_cluster: EtcdCluster,
) -> None:
    url, prefix = f"etcd://{etcd_cluster.endpoints}", f"test/{uuid.uuid4().hex}"
    first, second = EtcdControlPlane(url, prefix=prefix), EtcdControlPlane(url, prefix=prefix)
    try:
        first.register(att(1), TTL_NS)
        with pytest.raises(
            InstanceIdInUse, match="held by another live member \\(host host, pid 1\\)"
        ):
            second.register(att(2), TTL_NS)
        second.leave("gw-1")  # it never held it: the holder's membership is untouched
        assert [m.attestation.pid for m in first.members()] == [1]
        first.renew("gw-1")
        first.register(att(1), TTL_NS)  # its own rejoin replaces its own lease
        first.leave("gw-1")
        second.register(att(2), TTL_NS)  # free now
        assert [m.attestation.pid for m in first.members()] == [2]
        with pytest.raises(ControlPlaneError, match=r"(no longer a member|expired)"):
            first.renew("gw-1")  # first's old lease is gone; it does not renew second's
    finally:
        first.close()
        second.close()


def test_a_second_serve_process_with_a_live_id_does_not_start_and_a_killed_one_restarts(
    etcd_cluster: EtcdCluster, serve_fleet: FleetFactory, tmp_path: Path
) -> None:
    fleet = serve_fleet(etcd_cluster)
    fleet.start_all(["gw-1"])
    wait_until(lambda: fleet["gw-1"].gate() == "routing", 20, "gw-1 routes")
    twin = ServeFleet(tmp_path / "twin", fleet.control_plane, prefix=fleet.prefix)
    try:
        dup = twin.start("gw-1")
        assert dup.proc.wait(30) != 0  # gave up after waiting out one TTL
        assert "held by another live member" in "\n".join(dup.output)
    finally:
        twin.close()
    assert order(fleet["gw-1"]) == "accepted"  # the holder never noticed
    fleet["gw-1"].signal(signal.SIGKILL)
    fleet["gw-1"].proc.wait(10)
    fleet.start("gw-1").wait_started(30)  # the dead one's lease runs out, then it joins
    wait_until(lambda: fleet["gw-1"].gate() == "routing", 20, "the restarted gw-1 routes")
