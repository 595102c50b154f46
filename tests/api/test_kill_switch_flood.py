"""The kill switch while the REST order port is saturated.

Four client threads POST /orders back to back for two seconds (bounded in time and count);
half a second in, an operator halts through the admin port. The halt must return within
the bound, and every order sent after it returned must come back 423 HALTED.
"""

from __future__ import annotations

import socket
import threading
import time

import httpx

from api.conftest import ADMIN_TOKEN, DESK_KEY, Stack, bearer

CLIENTS = 4
FLOOD_S = 2.0
MAX_PER_CLIENT = 5_000  # a bound on count as well as time
HALT_AFTER_S = 0.5
HALT_BOUND_S = 1.0


def _flood(url: str, worker: int, stop_at: float, out: list[tuple[float, int, str]]) -> None:
    # TCP_NODELAY: httpx writes headers and body apart; without it Nagle and delayed ACKs
    # cost 40 ms a request and the "flood" is a trickle.
    nodelay = httpx.HTTPTransport(socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)])
    with httpx.Client(
        base_url=url, timeout=10, headers=bearer(DESK_KEY), transport=nodelay
    ) as client:
        for i in range(MAX_PER_CLIENT):
            sent = time.perf_counter()
            if sent >= stop_at:
                return
            body = {
                "client_order_id": f"f{worker}-{i}",
                "account": "desk-7",
                "strategy": "vwap",
                "symbol": "AAPL",
                "side": "buy",
                "quantity": 1 + worker * MAX_PER_CLIENT + i,
                "limit_price": "99.00",
            }
            r = client.post("/orders", json=body)
            out.append((sent, r.status_code, r.json().get("code", "")))


def test_halt_through_the_admin_port_under_a_rest_flood_stops_orders_within_bound(
    stack: Stack,
) -> None:
    idle_t0 = time.perf_counter()
    idle = stack.admin_client.post(
        "/halt",
        json={"scope": "symbol", "target": "MSFT", "reason": "idle probe"},
        headers=bearer(ADMIN_TOKEN),
    )
    idle_ms = (time.perf_counter() - idle_t0) * 1_000
    assert idle.status_code == 200
    results: list[list[tuple[float, int, str]]] = [[] for _ in range(CLIENTS)]
    start = time.perf_counter()
    threads = [
        threading.Thread(target=_flood, args=(stack.rest.url, w, start + FLOOD_S, results[w]))
        for w in range(CLIENTS)
    ]
    for t in threads:
        t.start()
    time.sleep(HALT_AFTER_S)
    before = sum(len(r) for r in results)
    t0 = time.perf_counter()
    r = stack.admin_client.post(
        "/halt", json={"scope": "global", "reason": "flood test"}, headers=bearer(ADMIN_TOKEN)
    )
    t1 = time.perf_counter()
    for t in threads:
        t.join(FLOOD_S + 15)
    assert not any(t.is_alive() for t in threads)

    latency_ms = (t1 - t0) * 1_000
    sent = [x for w in results for x in w]
    after = [(status, code) for at, status, code in sent if at > t1]
    print(
        f"\nflood: {len(sent)} POST /orders in {FLOOD_S} s from {CLIENTS} clients "
        f"({before} before the halt, {len(after)} after it returned)"
    )
    print(
        f"halt via admin port: {latency_ms:.1f} ms round trip under flood "
        f"(fleet confirmation {r.json()['elapsed_ms']:.2f} ms); idle round trip {idle_ms:.1f} ms"
    )
    assert r.status_code == 200 and r.json()["complete"], r.text
    assert latency_ms < HALT_BOUND_S * 1_000
    assert before > 50, "the REST port was not saturated before the halt"
    assert after, "no order was sent after the halt"
    assert set(after) == {(423, "HALTED")}
    assert all(status in (201, 403, 409, 423, 429) for _, status, _ in sent)
