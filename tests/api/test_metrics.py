"""`/metrics` on the admin port: who may read it, what it says, and the shipped rules file."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from api.conftest import ADMIN_TOKEN, DESK_KEY, RISK_KEY, Stack, bearer
from interlock.gateway.metrics import METRIC_NAMES

RULES = Path(__file__).resolve().parents[2] / "deploy" / "prometheus" / "interlock-rules.yml"


def _scrape(stack: Stack) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    r = stack.admin_client.get("/metrics", headers=bearer(ADMIN_TOKEN))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for fam in text_string_to_metric_families(r.text)
        for s in fam.samples
    }


def _value(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str,
           **labels: str) -> float:  # fmt: skip
    want = {"instance": "gw-1", **labels}
    found = [v for (n, ls), v in samples.items() if n == name and dict(ls) == want]
    assert len(found) == 1, (name, want, [k for k in samples if k[0] == name])
    return found[0]


def test_metrics_refuse_no_key_a_trading_key_and_a_wrong_token(stack: Stack) -> None:
    assert stack.admin_client.get("/metrics").status_code == 401
    for key in (DESK_KEY, RISK_KEY, "demo-admin-token-not"):
        r = stack.admin_client.get("/metrics", headers=bearer(key))
        assert (r.status_code, r.json()["code"]) == (401, "UNAUTHENTICATED"), key
    assert stack.rest_client.get("/metrics", headers=bearer(ADMIN_TOKEN)).status_code in (
        401, 404)  # fmt: skip


def test_metrics_count_decisions_by_code_and_read_positions_halts_and_leases(
    stack: Stack,
) -> None:
    before = _scrape(stack)
    assert _value(before, "interlock_decisions_total", code="accepted") == 0
    assert stack.post(stack.order(quantity=500)).status_code == 201
    refused = stack.post(stack.order(quantity=10_000_000)).json()["code"]
    after = _scrape(stack)
    assert _value(after, "interlock_decisions_total", code="accepted") == 1
    assert _value(after, "interlock_decisions_total", code=refused) == 1
    assert _value(after, "interlock_decide_seconds_count") == 2
    assert _value(after, "interlock_decide_seconds_bucket", le="+Inf") == 2
    # the resting buy of 500 reserves 500 of desk-7's AAPL limit
    limit = stack.harness.gateway.book.accounts["desk-7"].risk.position_limit("AAPL")
    assert _value(after, "interlock_position_utilisation", account="desk-7",
                  symbol="AAPL") == pytest.approx(500 / limit)  # fmt: skip
    assert _value(after, "interlock_position_shares", account="desk-7", symbol="AAPL") == 0
    assert _value(after, "interlock_rate_window_utilisation", account="desk-7", window="1s") > 0
    assert _value(after, "interlock_members") == 1
    ttl_s = stack.harness.gateway.config.lease_ttl_ms / 1_000
    assert 0 <= _value(after, "interlock_lease_age_seconds") < ttl_s
    assert 0 <= _value(after, "interlock_member_lease_age_seconds", member="gw-1") < ttl_s
    assert _value(after, "interlock_journal_available") == 1
    assert _value(after, "interlock_journal_commit_seconds_count") >= 1
    halt = {"scope": "symbol", "target": "AAPL", "reason": "test: metrics"}
    assert stack.admin_client.post("/halt", json=halt, headers=bearer(ADMIN_TOKEN)).is_success
    assert _value(_scrape(stack), "interlock_halts", scope="symbol") == 1


def test_metrics_of_two_gateways_in_one_process_stay_apart(stack: Stack) -> None:
    """Each gateway has its own registry: a second one in the process neither collides
    with the first nor shows its counts."""
    from prometheus_client import generate_latest

    from interlock.gateway.metrics import registry_for
    from interlock.sim.harness import around_the_clock, build

    other = build(around_the_clock()).gateway
    try:
        assert stack.post(stack.order()).status_code == 201
        text = generate_latest(registry_for(other)).decode()
        accepted = [
            s.value
            for f in text_string_to_metric_families(text)
            for s in f.samples
            if s.name == "interlock_decisions_total" and s.labels["code"] == "accepted"
        ]
        assert accepted == [0]
        assert _value(_scrape(stack), "interlock_decisions_total", code="accepted") == 1
    finally:
        other.close()


def test_every_exported_family_is_listed_and_the_rules_name_only_those(stack: Stack) -> None:
    r = stack.admin_client.get("/metrics", headers=bearer(ADMIN_TOKEN))
    exported = {f.name for f in text_string_to_metric_families(r.text)}
    # the parser drops a counter's `_total`; METRIC_NAMES keeps the sample name
    listed = {n.removesuffix("_total") for n in METRIC_NAMES}
    assert exported == listed
    named = set(re.findall(r"\binterlock_[a-z_]+", RULES.read_text()))
    samples = {*METRIC_NAMES, *(f"{n}_{s}" for n in METRIC_NAMES for s in ("bucket", "count",
                                                                          "sum"))}  # fmt: skip
    assert named and named <= samples, named - samples


def test_promtool_accepts_the_rules_file() -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool not installed (Debian package `prometheus`)")
    done = subprocess.run([promtool, "check", "rules", str(RULES)], capture_output=True,
                          text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS: 7 rules found" in done.stdout
