"""The kill switch while the REST order port is saturated.

Four client threads POST /orders back to back (bounded in time and count). Once the flood
is seen running (orders accepted), an operator halts through the admin port; the clients
go on until each has sent orders after the halt returned. The halt must return within the
bound, and every order sent after it returned must come back 423 HALTED. Every wait is for
a condition, with a deadline: nothing assumes how fast a loaded machine is.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable

import httpx
import pytest

from api.conftest import ADMIN_TOKEN, DESK_KEY, Stack, bearer

CLIENTS = 4
FLOOD_MAX_S = 30.0  # a bound on time: the flood normally stops far sooner (below)
MAX_PER_CLIENT = 5_000  # a bound on count as well as time
ACCEPTED_BEFORE_HALT = 50  # the flood is running: this many orders accepted (201)
AFTER_HALT_PER_CLIENT = 5  # each client sends this many after the halt returned, then stops
HALT_BOUND_S = 1.0


def _flood(url: str, worker: int, stop: threading.Event, out: list[tuple[float, int, str]]) -> None:
    # TCP_NODELAY: httpx writes headers and body apart; without it Nagle and delayed ACKs
    # cost 40 ms a request and the "flood" is a trickle.
    nodelay = httpx.HTTPTransport(socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)])
    with httpx.Client(
        base_url=url, timeout=10, headers=bearer(DESK_KEY), transport=nodelay
    ) as client:
        stop_at = time.perf_counter() + FLOOD_MAX_S
        for i in range(MAX_PER_CLIENT):
            sent = time.perf_counter()
            if sent >= stop_at or stop.is_set():
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


def until(condition: Callable[[], bool], what: str, deadline_s: float = 20.0) -> None:
    """Wait for `condition`, polling, for at most `deadline_s`; fail saying `what`."""
    end = time.monotonic() + deadline_s
    while not condition():
        if time.monotonic() > end:
            pytest.fail(f"not within {deadline_s} s: {what}")
        time.sleep(0.001)


def test_halt_through_the_admin_port_under_a_rest_flood_stops_orders_within_bound(
    flood_stack: Stack,
) -> None:
    idle_t0 = time.perf_counter()
    idle = flood_stack.admin_client.post(
        "/halt",
        json={"scope": "symbol", "target": "MSFT", "reason": "idle probe"},
        headers=bearer(ADMIN_TOKEN),
    )
    idle_ms = (time.perf_counter() - idle_t0) * 1_000
    assert idle.status_code == 200
    results: list[list[tuple[float, int, str]]] = [[] for _ in range(CLIENTS)]
    stop = threading.Event()
    threads = [
        threading.Thread(target=_flood, args=(flood_stack.rest.url, w, stop, results[w]))
        for w in range(CLIENTS)
    ]
    for t in threads:
        t.start()
    try:
        until(lambda: sum(x[1] == 201 for w in results for x in list(w)) >= ACCEPTED_BEFORE_HALT,
              "the flood was seen running")  # fmt: skip
        before = sum(len(r) for r in results)
        t0 = time.perf_counter()
        r = flood_stack.admin_client.post(
            "/halt", json={"scope": "global", "reason": "flood test"}, headers=bearer(ADMIN_TOKEN)
        )
        t1 = time.perf_counter()
        resting = len(flood_stack.harness.venue.open_order_ids())
        until(lambda: all(sum(x[0] > t1 for x in list(w)) >= AFTER_HALT_PER_CLIENT
                          for w in results), "every client sent orders after the halt")  # fmt: skip
    finally:
        stop.set()
        for t in threads:
            t.join(FLOOD_MAX_S)
    assert not any(t.is_alive() for t in threads)

    latency_ms = (t1 - t0) * 1_000
    sent = [x for w in results for x in w]
    after = [(status, code) for at, status, code in sent if at > t1]
    print(
        f"\nflood: {len(sent)} POST /orders from {CLIENTS} clients "
        f"({before} before the halt, {len(after)} after it returned)"
    )
    print(
        f"halt via admin port: {latency_ms:.1f} ms round trip under flood "
        f"(fleet confirmation {r.json()['elapsed_ms']:.2f} ms); idle round trip {idle_ms:.1f} ms"
    )
    assert r.status_code == 200 and r.json()["complete"], r.text
    pending = r.json()["pending_cancel"]
    assert isinstance(pending, int) and pending >= 0
    assert ("pending cancel" in r.json()["summary"]) == (pending > 0)
    assert resting <= pending, f"{resting} orders rest at the venue after {r.json()['summary']}"
    until(lambda: not flood_stack.harness.venue.open_order_ids(), "the pending cancels resolved")
    assert latency_ms < HALT_BOUND_S * 1_000
    assert before >= ACCEPTED_BEFORE_HALT, "the REST port was not flooded before the halt"
    assert len(after) >= CLIENTS * AFTER_HALT_PER_CLIENT
    assert set(after) == {(423, "HALTED")}
    assert all(status in (201, 403, 409, 423, 429) for _, status, _ in sent)
