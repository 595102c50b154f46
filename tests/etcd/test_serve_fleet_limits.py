"""Two real `interlock serve` processes on a real etcd cluster: a raise proposed on gw-1's
admin port, refused for its proposer on gw-2, approved on gw-2 by a second risk principal;
the same order refused on both before, accepted on both after, under one new epoch."""

from __future__ import annotations

import hashlib
from typing import Any

import httpx

from conftest import FleetFactory
from interlock.sim.etcd_cluster import EtcdCluster
from interlock.sim.serve_fleet import ServeFleet, packaged_config, wait_until

TOKENS = {"risk-a": "risk-a-token", "risk-b": "risk-b-token"}
NOTIONAL = "accounts.desk-7.max_order_notional"


def _tokens() -> list[dict[str, str]]:
    tokens: list[dict[str, str]] = list(packaged_config()["admin"]["tokens"])
    for who, token in TOKENS.items():
        digest = hashlib.sha256(token.encode()).hexdigest()
        tokens.append({"principal": who, "token_sha256": digest, "role": "risk"})
    return tokens


def _as(fleet: ServeFleet, member: str, who: str, path: str, body: Any = None) -> httpx.Response:
    return httpx.post(f"{fleet[member].admin_url}{path}", json=body, timeout=30,
                      headers={"Authorization": f"Bearer {TOKENS[who]}"})  # fmt: skip


def test_a_raise_proposed_on_one_serve_and_approved_on_another_is_in_force_on_both(
    etcd_cluster: EtcdCluster, serve_fleet: FleetFactory
) -> None:
    fleet = serve_fleet(etcd_cluster, extra={"admin": {"tokens": _tokens()}})
    members = ["gw-1", "gw-2"]
    fleet.start_all(members)
    wait_until(lambda: all(fleet[m].gate() == "routing" for m in members), 60, "2 routing")
    epoch = fleet["gw-1"].fleet()["epoch"]
    for i, m in enumerate(members):
        r = fleet[m].submit(f"before-{i}", quantity=6000)
        assert (r.status_code, r.json()["code"]) == (403, "MAX_ORDER_NOTIONAL"), r.text
    body = {"items": [{"path": NOTIONAL, "value": "800000"}], "reason": "desk asks"}
    proposed = _as(fleet, "gw-1", "risk-a", "/limits/changes", body)
    assert proposed.status_code == 200 and proposed.json()["status"] == "pending", proposed.text
    change_id = proposed.json()["change_id"]
    approve = f"/limits/changes/{change_id}/approve"
    own = _as(fleet, "gw-2", "risk-a", approve)
    assert (own.status_code, own.json()["code"]) == (403, "FOUR_EYES_REQUIRED"), own.text
    approved = _as(fleet, "gw-2", "risk-b", approve)
    assert approved.status_code == 200 and approved.json()["status"] == "applied", approved.text
    wait_until(lambda: all(fleet[m].fleet()["epoch"] == epoch + 1 for m in members), 30,
               "both at the new epoch")  # fmt: skip
    wait_until(lambda: all(fleet[m].gate() == "routing" for m in members), 30, "both routing")
    for i, m in enumerate(members):
        r = fleet[m].submit(f"after-{i}", quantity=6000)
        assert r.status_code == 201, r.text
