"""Knight's morning on real `interlock serve` processes and a real 3-node etcd: the release
names three members, one kept the old build. At the calendar's open the members on the
release are not ready, naming the straggler and its build; no order routes until a person
acknowledges (`interlock preopen --ack`), and then one does. The straggler itself routes
nothing either way (the instance gate fences it)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from api.serve_kit import calendar_opening_in
from conftest import FleetFactory
from interlock.control.attestation import short, tree_digest
from interlock.control.etcd_plane import EtcdControlPlane
from interlock.control.plane import Release
from interlock.sim.etcd_cluster import EtcdCluster
from interlock.sim.serve_fleet import ADMIN_TOKEN, ServeFleet, build_copy, wait_until

OPEN_IN_S = 25.0
NEW, STALE = ("gw-1", "gw-2"), "gw-3"


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "interlock.cli", *args], capture_output=True,
                          text=True, timeout=60, env={**os.environ, "COLUMNS": "200"})  # fmt: skip


def test_old_build_member_blocks_the_open_until_a_person_acks(
    etcd_cluster: EtcdCluster,
    serve_fleet: FleetFactory,
    operator: Callable[[ServeFleet], EtcdControlPlane],
    tmp_path: Path,
) -> None:
    extra = {"calendar": calendar_opening_in(OPEN_IN_S), "preopen": {"check_interval_ms": 200}}
    fleet = serve_fleet(etcd_cluster, extra=extra)
    new = build_copy(tmp_path / "new-build", "# the new build\n")
    digest = tree_digest(new / "interlock")
    started = [fleet.start(i, build_dir=new) for i in NEW] + [fleet.start(STALE)]
    for member in started:
        member.wait_started(60)
    plane = operator(fleet)
    old = plane.release()
    plane.set_release(Release(digest, "", old.epoch + 1, (*NEW, STALE)), "release-eng")
    gw = fleet["gw-1"]
    wait_until(lambda: gw.gate() == "routing", 20, "gw-1 routes on the release before the open")
    admin = ("--admin", gw.admin_url, "--token", ADMIN_TOKEN)
    verdict = cli("preopen", *admin)
    assert verdict.returncode == 1, verdict.stdout + verdict.stderr
    assert f"  members: {STALE} runs build " in verdict.stdout
    assert f"not the release's {short(digest)}" in verdict.stdout

    for i in NEW:  # each member's own pre-open watch blocks it, on its own check interval
        m = fleet[i]
        wait_until(lambda m=m: m.gate() == "NOT_READY", OPEN_IN_S + 20, f"{i} blocked at the open")
        r = m.submit(f"{i}-at-open")
        assert (r.status_code, r.json()["code"]) == (423, "NOT_READY"), r.text
        assert f"members: {STALE} runs build" in r.json()["message"]
    assert fleet[STALE].submit("stale-at-open").json()["code"] in {
        "INSTANCE_NOT_ATTESTED", "STALE_EPOCH"}  # fmt: skip

    acked = cli("preopen", "--ack", *admin)
    assert acked.returncode == 0, acked.stdout + acked.stderr
    assert f"members: {STALE} runs build" in acked.stdout and "routing unblocked" in acked.stdout
    r = gw.submit("gw-1-after-ack")
    assert r.status_code == 201, r.text
    r = fleet["gw-2"].submit("gw-2-still-blocked")  # each member is acknowledged on its own
    assert r.json()["code"] == "NOT_READY", r.text
