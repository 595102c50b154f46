"""Faults with real processes: `interlock serve` members on a real 3-node etcd cluster, the
cluster's nodes killed, a member paused past its lease, a member cut off from etcd.

Each test waits for conditions with deadlines; the lease TTL is the packaged 2 s. Orders go
to the simulated venue through each member's REST port, alternating sides so positions stay
inside the desk's limits, paced well under the runaway monitors' rates.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterable

import httpx
import pytest

from conftest import FleetFactory
from interlock.control.etcd_plane import EtcdControlPlane
from interlock.control.plane import Release
from interlock.sim.etcd_cluster import EtcdCluster
from interlock.sim.partition import partition_support
from interlock.sim.serve_fleet import ServeFleet, ServeProcess, wait_until

TTL_S = 2.0
IDS = ("gw-1", "gw-2", "gw-3")
_n = iter(range(1_000_000))


def order(member: ServeProcess) -> str:
    """Send one order; 'accepted' or the code it was refused with."""
    n = next(_n)
    try:
        # distinct sizes: the duplicate-order monitor; sales short, of an easy-to-borrow name
        side, symbol = ("buy", "AAPL") if n % 2 else ("sell_short", "SPY")
        r = member.submit(f"{member.instance_id}-{n}", side=side, symbol=symbol,
                          quantity=100 + n % 500)  # fmt: skip
    except httpx.HTTPError as exc:
        return f"unreachable: {exc}"
    return "accepted" if r.status_code == 201 else str(r.json()["code"])


def routing(fleet: ServeFleet, ids: Iterable[str] = IDS) -> Callable[[], bool]:
    return lambda: all(fleet[i].gate() == "routing" for i in ids)


def started(make: FleetFactory, cluster: EtcdCluster, ids: Iterable[str] = IDS,
            partitionable: str = "") -> ServeFleet:  # fmt: skip
    fleet = make(cluster)
    for i in ids:
        fleet.start(i, partitionable=i == partitionable)
    for i in ids:
        fleet[i].wait_started()
    wait_until(routing(fleet, ids), 30, "every member routes")
    return fleet


def orders_for(fleet: ServeFleet, ids: Iterable[str], seconds: float) -> dict[str, list[str]]:
    """Orders to each member every 100 ms for `seconds`: what each answered."""
    seen: dict[str, list[str]] = {i: [] for i in ids}
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for i in seen:
            seen[i].append(order(fleet[i]))
        time.sleep(0.1)
    return seen


def elected_after(cluster: EtcdCluster, killed_at: float, found: list[float]) -> None:
    """Append the seconds from `killed_at` until the running nodes agree on a leader."""
    while time.monotonic() - killed_at < 10:
        if cluster.leader(timeout=0.2) is not None:
            found.append(time.monotonic() - killed_at)
            return
        time.sleep(0.02)


# A member renews every TTL/4 and its gate stays open until TTL after the last renewal
# it sent: a leaderless etcd is invisible to it only if it elects within TTL - TTL/4 (less
# the renewal's own round trips). One election here takes 0.5-1 s (the cluster's election
# timeout is randomised in [500, 1000) ms); a split vote, or a loaded machine, adds rounds.
RENEW_MARGIN_S = TTL_S - TTL_S / 4 - 0.1


def test_one_of_three_etcd_nodes_killed_the_fleet_keeps_trading(
    etcd_cluster_factory: Callable[..., EtcdCluster], serve_fleet: FleetFactory
) -> None:
    """It failed once in CI: etcd itself then had no leader for longer than the members'
    renewal margin (one SIGKILLed leader, two followers on a loaded 2-core machine: a split
    vote costs another election timeout). The test now times the election: within the
    margin, no order may be refused; past it, a refusal is only CONTROL_PLANE_LOST (closed,
    never open) and every member trades again by itself, without an operator."""
    cluster = etcd_cluster_factory()
    fleet = started(serve_fleet, cluster)
    leader = cluster.leader()
    assert leader is not None
    elected: list[float] = []
    cluster.kill(leader)  # the harder case: the cluster must elect again
    timer = threading.Thread(target=elected_after, args=(cluster, time.monotonic(), elected))
    timer.start()
    seen = orders_for(fleet, IDS, 2 * TTL_S)
    timer.join(10)
    assert elected, "the two running etcd nodes elected no leader within 10 s"
    refused = {i: [c for c in codes if c != "accepted"] for i, codes in seen.items()}
    if elected[0] <= RENEW_MARGIN_S:
        assert refused == {i: [] for i in IDS}, f"etcd elected within {elected[0]:.2f} s"
    else:
        print(f"etcd took {elected[0]:.2f} s to elect: past the {RENEW_MARGIN_S:.2f} s margin")
        assert {c for codes in refused.values() for c in codes} <= {"CONTROL_PLANE_LOST"}
        for i in IDS:
            wait_until(lambda i=i: order(fleet[i]) == "accepted", 10, f"{i} trades again")
    report = fleet["gw-2"].halt("after losing an etcd node")
    assert report["complete"] and sorted(report["confirmed"]) == list(IDS), report["summary"]


def test_two_of_three_etcd_nodes_killed_every_member_stops_within_its_ttl_and_resumes_after(
    etcd_cluster_factory: Callable[..., EtcdCluster], serve_fleet: FleetFactory
) -> None:
    cluster = etcd_cluster_factory()
    fleet = started(serve_fleet, cluster)
    before = fleet["gw-1"].fleet()["epoch"]
    survivor = 0
    killed_at = time.monotonic()
    cluster.kill(1)
    cluster.kill(2)
    killed_ns = time.time_ns()  # no renewal can be granted after this
    wait_until(lambda: all(fleet[i].gate() == "CONTROL_PLANE_LOST" for i in IDS),
               TTL_S + 10.0, "every member fails closed")  # fmt: skip
    # Within its TTL, from each member's own figure rather than this test's polling (three
    # HTTP round trips, slow on a loaded machine): the order path refuses once the clock
    # passes the lease deadline, and no member may hold one later than a TTL after the kill.
    for i in IDS:
        expires = fleet[i].health()["lease_expires_ns"]
        assert expires <= killed_ns + int(TTL_S * 1e9), (i, (expires - killed_ns) / 1e9)
    late = orders_for(fleet, IDS, 1.0)  # none routes after: every order refused
    assert {c for codes in late.values() for c in codes} == {"CONTROL_PLANE_LOST"}
    # The kill switch still works on each member without the plane: halted here only.
    report = fleet["gw-3"].halt("etcd lost its quorum")
    assert "unreachable" in report["summary"] and report["confirmed"] == ["gw-3"]
    assert time.monotonic() - killed_at < 30
    cluster.restart(1)
    cluster.restart(2)
    cluster.wait_writable()
    wait_until(routing(fleet), 20, "every member re-attests once etcd is back")
    assert fleet["gw-1"].fleet()["epoch"] == before  # the release and epoch it had
    members = {m["instance_id"] for m in fleet["gw-1"].fleet()["members"]}
    assert members == set(IDS)
    # Seen about one run in four under load: a member that just re-attested refuses a few
    # orders with CONTROL_PLANE_LOST before it routes for good (closed, never open wrongly;
    # not yet explained, see the closing note of issue 11). Routing must resume within 10 s.
    wait_until(lambda: order(fleet["gw-1"]) == "accepted", 10, "gw-1 routes again")
    assert order(fleet["gw-3"]) == "HALTED"  # its local halt holds until an operator lifts it
    fleet["gw-3"].admin("POST", "/resume", {"scope": "global", "target": ""})
    assert order(fleet["gw-3"]) == "accepted"
    assert survivor == 0


def test_a_member_paused_past_its_lease_never_routes_on_it_when_it_wakes(
    etcd_cluster: EtcdCluster,
    serve_fleet: FleetFactory,
    operator: Callable[[ServeFleet], EtcdControlPlane],
) -> None:
    fleet = started(serve_fleet, etcd_cluster)
    plane = operator(fleet)
    paused = fleet["gw-3"]
    paused.signal(signal.SIGSTOP)
    wait_until(lambda: "gw-3" not in {m.instance_id for m in plane.members()}, TTL_S + 3,
               "etcd expires the paused member's lease")  # fmt: skip
    # While it sleeps the fleet moves on: a new release it does not run, without it.
    r = plane.release()
    plane.set_release(Release("b-next", r.flag_digest, r.epoch + 1, ("gw-1", "gw-2")), "ops")
    paused.signal(signal.SIGCONT)
    seen = orders_for(fleet, ["gw-3"], 2.0)["gw-3"]  # from the instant it wakes
    assert "accepted" not in seen, seen
    assert set(seen) <= {"CONTROL_PLANE_LOST", "INSTANCE_NOT_ATTESTED"}, seen
    assert seen[-1] == "INSTANCE_NOT_ATTESTED"  # it joined again, and is refused the release
    assert "gw-3" in {m.instance_id for m in plane.members()}


def test_a_member_cut_off_from_etcd_stops_within_its_ttl_and_rejoins_when_healed(
    etcd_cluster: EtcdCluster, serve_fleet: FleetFactory
) -> None:
    missing = partition_support()  # never skipped: the test command installs iptables
    if missing is not None:
        pytest.fail(f"cannot partition here: {missing}", pytrace=False)
    fleet = started(serve_fleet, etcd_cluster, partitionable="gw-2")
    cut = fleet["gw-2"]
    assert cut.partition is not None
    cut.partition.isolate()
    isolated_ns = time.time_ns()
    wait_until(lambda: cut.gate() == "CONTROL_PLANE_LOST", TTL_S + 10.0,
               "the cut-off member fails closed")  # fmt: skip
    expires = cut.health()["lease_expires_ns"]  # its own figure, not this test's polling
    assert expires <= isolated_ns + int(TTL_S * 1e9), (expires - isolated_ns) / 1e9
    during = orders_for(fleet, IDS, 1.0)
    assert set(during["gw-2"]) == {"CONTROL_PLANE_LOST"}
    assert set(during["gw-1"]) == set(during["gw-3"]) == {"accepted"}  # the others trade on
    cut.partition.heal()
    wait_until(lambda: cut.gate() == "routing", 20, "the healed member re-attests")
    assert order(cut) == "accepted"


def test_members_whose_watch_hangs_on_a_frozen_etcd_node_halt_or_stop_within_their_ttl(
    etcd_cluster_factory: Callable[..., EtcdCluster], serve_fleet: FleetFactory
) -> None:
    """Every member watches through the first endpoint it reaches (node 0). Freeze that
    node: the streams stay open and say nothing, so no halt would ever arrive through them.
    A member must not take a silent stream for a quiet fleet: its renewals stop succeeding
    (its own beats no longer come back through its watch), and it stops routing within its
    TTL, or it watches again through another node and applies the halt."""
    cluster = etcd_cluster_factory()
    fleet = started(serve_fleet, cluster)
    cluster.pause(0)
    others = ",".join(cluster.endpoints.split(",")[1:])
    plane = EtcdControlPlane(f"etcd://{others}", prefix=fleet.prefix)
    try:
        from interlock.control.plane import HaltRecord
        from interlock.domain.enums import HaltScope

        plane.put_halt(HaltRecord(HaltScope.GLOBAL, "", "while node 0 is frozen", "ops",
                                  time.time_ns()))  # fmt: skip
        stopped = {"HALTED", "CONTROL_PLANE_LOST"}
        took = wait_until(lambda: all(order(fleet[i]) in stopped for i in IDS), TTL_S + 1.5,
                          "every member stops routing")  # fmt: skip
        assert took <= TTL_S + 1.0
        wait_until(lambda: all(order(fleet[i]) == "HALTED" for i in IDS), 10,
                   "every member watches again elsewhere and applies the halt")  # fmt: skip
    finally:
        plane.close()
        cluster.resume(0)
