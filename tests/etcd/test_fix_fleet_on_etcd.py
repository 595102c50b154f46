"""A fleet of real `interlock serve` processes on a real 3-node etcd, each routing over its
own FIX session (its own SenderCompID) to one exchange played in this process by the
FakeExchange, reference prices from the exchange's market data.

Orders reach the exchange and fills come back to the member that sent them; a halt from one
member's admin port is confirmed by all, and every order it covers that rests at the
exchange is cancelled there (the exchange's own book says so), with the report's
pending_cancel counting exactly the cancels the exchange had yet to confirm (and a cancel
a member could not send while its session was down goes out when it is back); a member that
loses its etcd quorum stops routing within its lease TTL while its FIX session stays up,
and routes again once the cluster is back. Loopback only, every wait bounded, every
process stopped at the end (also on failure).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

pytest.importorskip("quickfix")

from interlock.sim.etcd_cluster import EtcdCluster
from interlock.sim.fix import FakeExchange, free_port
from interlock.sim.fix_venue import fake_exchange, fix_venue_table
from interlock.sim.serve_fleet import ServeFleet, ServeProcess, wait_until

TTL_S = 2.0  # ServeFleet's lease TTL
SYMBOLS = ("AAPL", "MSFT")
MEMBERS = {"gw-1": "FLT1", "gw-2": "FLT2", "gw-3": "FLT3"}  # instance -> its CompID
CUT = {"gw-4": "FLT4", "gw-5": "FLT5"}  # the fleet on the cluster that loses its quorum
_n = iter(range(1, 1_000_000))


@dataclass
class Rig:
    exchange: FakeExchange
    port: int
    fleet: ServeFleet


def start_members(fleet: ServeFleet, port: int, comp_ids: dict[str, str]) -> None:
    for instance_id, comp_id in comp_ids.items():
        fleet.start(instance_id, config=fix_venue_table(port, comp_id))
    for instance_id in comp_ids:
        fleet[instance_id].wait_started(60)
    wait_until(lambda: all(fleet[i].gate() == "routing" for i in comp_ids), 30, "all route")


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory, etcd_cluster: EtcdCluster) -> Iterator[Rig]:
    root = tmp_path_factory.mktemp("fix-fleet")
    port = free_port()
    exchange = fake_exchange(root / "exchange", port, (*MEMBERS.values(), *CUT.values()),
                             SYMBOLS)  # fmt: skip
    prefix = f"test/{uuid.uuid4().hex[:12]}"
    fleet = ServeFleet(root / "fleet", f"etcd://{etcd_cluster.endpoints}", prefix=prefix,
                       ttl_ms=int(TTL_S * 1000))  # fmt: skip
    try:
        start_members(fleet, port, MEMBERS)
        yield Rig(exchange, port, fleet)
    finally:
        fleet.close()
        exchange.stop()


def buy(member: ServeProcess, symbol: str, qty: int, price: str) -> str:
    """Send a buy; its order id, or the code it was refused with."""
    r = member.submit(f"{member.instance_id}-{next(_n)}", symbol=symbol, quantity=qty,
                      price=price)  # fmt: skip
    return str(r.json()["order_id"]) if r.status_code == 201 else str(r.json()["code"])


def test_each_member_routes_over_its_own_session_and_gets_its_own_fills(rig: Rig) -> None:
    ex, fleet = rig.exchange, rig.fleet
    assert ex.logged_on_clients() >= set(MEMBERS.values())
    for instance_id in MEMBERS:
        assert fleet[instance_id].health()["venue"] == "fix up"
        assert "reference prices from venue" in "\n".join(fleet[instance_id].output)
    qty = {i: 10 * k for k, i in enumerate(MEMBERS, 1)}
    sent = {i: buy(fleet[i], "MSFT", qty[i], "100.00") for i in MEMBERS}
    assert all(v.isdigit() for v in sent.values()), sent
    wait_until(lambda: all(fleet[i].positions().get("MSFT") == (qty[i], 0) for i in MEMBERS),
               10, "each member's own fill")  # fmt: skip
    for instance_id, comp_id in MEMBERS.items():
        at_exchange = ex.orders_of(comp_id)[sent[instance_id]]  # over its own session
        assert (at_exchange[55], at_exchange[38]) == ("MSFT", str(qty[instance_id]))
    # each member numbers its own orders (ClOrdID = its order id, unique per session), so
    # the sessions, not the ids, tell the members apart at the exchange


def test_a_halt_from_one_member_cancels_every_resting_order_at_the_exchange(rig: Rig) -> None:
    ex, fleet = rig.exchange, rig.fleet
    ex.fill = False  # orders rest in the exchange's book
    try:
        resting = {i: [buy(fleet[i], s, 7 + k, "99.00") for k, s in enumerate(SYMBOLS)]
                   for i in MEMBERS}  # fmt: skip
        assert all(v.isdigit() for ids in resting.values() for v in ids), resting
        wait_until(lambda: all(set(resting[i]) <= set(ex.book(c)) for i, c in MEMBERS.items()),
                   10, "every order rests at the exchange")  # fmt: skip
        total = sum(len(ids) for ids in resting.values())
        ex.hold_cancels()  # the exchange confirms no cancel until we say: all are pending
        report = fleet["gw-2"].halt("fleet halt over FIX")
        assert report["complete"], report["summary"]
        assert sorted(report["confirmed"]) == sorted(MEMBERS), report["summary"]
        assert report["pending_cancel"] == total, report["summary"]
        assert f"{total} orders pending cancel" in report["summary"]
        wait_until(lambda: all(ex.held_cancels(c) == set(resting[i]) for i, c in MEMBERS.items()),
                   5, "every covered order's cancel reached the exchange")  # fmt: skip
        assert ex.release_cancels() == total
        wait_until(lambda: not any(ex.book(c) for c in MEMBERS.values()), 10, "books empty")
        wait_until(lambda: all(fleet[i].order(o)["status"] == "cancelled"
                               for i in MEMBERS for o in resting[i]), 10, "cancelled")  # fmt: skip
        for instance_id in MEMBERS:
            assert all(ob == 0 for _, ob in fleet[instance_id].positions().values())
        seen = {c: len(ex.orders_of(c)) for c in MEMBERS.values()}
        assert {buy(fleet[i], "AAPL", 5, "100.00") for i in MEMBERS} == {"HALTED"}
        assert {c: len(ex.orders_of(c)) for c in MEMBERS.values()} == seen  # none left
    finally:
        ex.release_cancels()
        ex.fill = True
    assert fleet["gw-3"].admin("POST", "/resume", {"scope": "global", "target": ""})["lifted"]
    wait_until(lambda: all(fleet[i].gate() == "routing" for i in MEMBERS), 10, "routing")
    before = {i: fleet[i].positions().get("AAPL", (0, 0))[0] for i in MEMBERS}
    # the lift reached every member through its watch: each routes, and its fill comes back
    assert all(buy(fleet[i], "AAPL", 3, "100.00").isdigit() for i in MEMBERS)
    wait_until(lambda: all(fleet[i].positions()["AAPL"][0] == before[i] + 3 for i in MEMBERS),
               10, "each member's fill after the resume")  # fmt: skip


def test_a_halt_while_a_members_fix_session_is_down_cancels_its_orders_once_it_is_back(
    rig: Rig,
) -> None:
    """The halt's cancel cannot leave while the session is down; QuickFIX would store it and
    gap-fill it on the resend (an order message is never resent), so it must go out anew
    on the next Logon, or the order rests at the exchange under a halt."""
    ex, fleet = rig.exchange, rig.fleet
    member, comp_id = fleet["gw-1"], MEMBERS["gw-1"]
    ex.fill = False
    try:
        rest = buy(member, "MSFT", 11, "99.00")
        assert rest.isdigit(), rest
        wait_until(lambda: rest in ex.book(comp_id), 10, "the order rests at the exchange")
        ex.drop(comp_id)
        wait_until(lambda: member.health().get("venue") == "fix down", 10, "gw-1's session down")
        report = fleet["gw-2"].halt("halt while gw-1's FIX session is down")
        assert report["complete"], report["summary"]
        assert report["pending_cancel"] == 1, report["summary"]  # gw-1's, sent when it can be
        assert rest in ex.book(comp_id)
        ex.readmit(comp_id)
        wait_until(lambda: comp_id in ex.logged_on_clients(), 10, "gw-1 logs on again")
        wait_until(lambda: rest not in ex.book(comp_id), 10, "cancelled at the exchange")
        wait_until(lambda: member.order(rest)["status"] == "cancelled", 10, "and at gw-1")
        assert member.positions().get("MSFT", (0, 0))[1] == 0  # no open buy left
    finally:
        ex.readmit(comp_id)
        ex.fill = True
    assert fleet["gw-1"].admin("POST", "/resume", {"scope": "global", "target": ""})["lifted"]
    wait_until(lambda: all(fleet[i].gate() == "routing" for i in MEMBERS), 10, "routing")


def test_a_member_without_etcd_quorum_stops_routing_but_keeps_its_fix_session(
    rig: Rig,
    etcd_cluster_factory: Callable[..., EtcdCluster],
    serve_fleet: Callable[..., ServeFleet],
) -> None:
    ex = rig.exchange
    cluster = etcd_cluster_factory()
    fleet = serve_fleet(cluster, ttl_ms=int(TTL_S * 1000))
    start_members(fleet, rig.port, CUT)
    for instance_id in CUT:
        assert buy(fleet[instance_id], "AAPL", 4, "100.00").isdigit()
    wait_until(
        lambda: all(len(ex.orders_of(c)) == 1 for c in CUT.values()),
        10,
        "the exchange has each member's first order",
    )  # the ack may beat its arrival
    seen = {c: len(ex.orders_of(c)) for c in CUT.values()}
    cluster.kill(1)
    cluster.kill(2)
    took = wait_until(lambda: all(fleet[i].gate() == "CONTROL_PLANE_LOST" for i in CUT),
                      TTL_S + 1.0, "every member fails closed")  # fmt: skip
    assert took <= TTL_S + 0.3
    assert {buy(fleet[i], "AAPL", 6, "100.00") for i in CUT} == {"CONTROL_PLANE_LOST"}
    assert {c: len(ex.orders_of(c)) for c in CUT.values()} == seen  # nothing reached it
    assert ex.logged_on_clients() >= set(CUT.values())  # the FIX sessions stay up
    assert all(fleet[i].health()["venue"] == "fix up" for i in CUT)
    cluster.restart(1)
    cluster.restart(2)
    cluster.wait_writable()
    wait_until(lambda: all(fleet[i].gate() == "routing" for i in CUT), 20, "routing again")
    sent = {i: buy(fleet[i], "MSFT", 8, "100.00") for i in CUT}
    assert all(v.isdigit() for v in sent.values()), sent
    wait_until(lambda: all(sent[i] in ex.orders_of(c) for i, c in CUT.items()), 5, "routed")
    wait_until(lambda: all(fleet[i].positions().get("MSFT") == (8, 0) for i in CUT), 10, "fill")
