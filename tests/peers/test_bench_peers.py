"""bench/peers.py runs end to end on a small load: every JSON key issue 14 names, a real
positive figure; the five sides were handed the same orders (one digest), and where the
two products have the same limit they refused the same orders for it. Without the peer
installed it exits saying how to install it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from peer_kit import BENCH, require_peer

SIDES = ("interlock", "interlock_checks_off", "interlock_routed", "nautilus", "nautilus_bypass")
FIGURES = ("interlock_p50_us", "interlock_p99_us", "nautilus_p50_us", "nautilus_p99_us",
           "ratio_vs_nautilus", "nautilus_bypass_p50_us", "nautilus_bypass_p99_us",
           "interlock_checks_off_p50_us", "interlock_routed_p50_us", "ratio_routed_vs_nautilus",
           "floor_ns")  # fmt: skip
SAME_LIMIT = {  # Interlock's code -> the peer's reason, for the limits both have
    "MAX_ORDER_NOTIONAL": "NOTIONAL_EXCEEDS_MAX_PER_ORDER",
    "MAX_ORDER_QTY": "quantity invalid",
    "SCHEMA_INVALID": "price invalid",  # the off-tick price: precision 3 on a 0.01 tick
    "UNKNOWN_SYMBOL": "Instrument for NOPE.SIM not found",
}


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, str(BENCH / "peers.py"), *args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=300, cwd=BENCH)


def test_peers_bench_times_both_sides_on_the_same_orders(tmp_path: Path) -> None:
    require_peer()
    out = tmp_path / "peers.json"
    done = _run("--orders", "600", "--rounds", "2", "--json", str(out))

    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    r = json.loads(out.read_text())
    for key in FIGURES:
        assert isinstance(r[key], float) and r[key] > 0, (key, r.get(key))
    assert len(r["round_p50_us"]) == 2
    assert {r[f"{s}_orders"] for s in SIDES} == {600}
    assert len({r[f"{s}_orders_digest"] for s in SIDES}) == 1  # the same orders, in order
    for side in SIDES:
        assert sum(r[f"{side}_outcomes"].values()) == 600
    assert r["timed"]["interlock"].startswith("Gateway.submit(")  # what the timer holds, said
    assert r["timed"]["nautilus"].startswith("RiskEngine.execute(")
    assert r["interlock_routed_outcomes"] == r["interlock_outcomes"]  # routing decides nothing
    assert "max_notional_per_order" in r["nautilus_checks"] and r["nautilus_bypass_checks"] == []
    assert {"max_order_notional", "price_collar", "decode"} <= set(r["interlock_checks"])
    assert "max_order_notional" not in r["interlock_checks_off_checks"]
    ours, theirs = r["interlock_outcomes"], r["nautilus_outcomes"]
    for code, reason in SAME_LIMIT.items():
        assert ours[code] > 0 and ours[code] == theirs[reason], (code, ours, theirs)
    # what the peer has no check for, and nothing the other way round
    assert set(r["refused_by_interlock_only"]) == {"PRICE_COLLAR", "RESTRICTED_SYMBOL"}
    assert r["refused_by_nautilus_only"] == {}
    assert "ratio_vs_nautilus" in done.stdout and "nautilus_bypass" in done.stdout  # the table


def test_peers_bench_refuses_a_round_too_small_to_have_a_p99() -> None:
    require_peer()
    done = _run("--orders", "10")
    assert done.returncode == 2
    assert "--orders must be >= 100" in done.stderr


def test_peers_bench_without_the_peer_installed_says_how_to_install_it() -> None:
    hide = ("import runpy, sys; sys.modules['nautilus_trader'] = None; sys.argv = ['peers.py'];"
            " runpy.run_path('peers.py', run_name='__main__')")  # fmt: skip
    done = subprocess.run([sys.executable, "-c", hide], capture_output=True, text=True,
                          timeout=120, cwd=BENCH)  # fmt: skip
    assert done.returncode == 1
    assert done.stderr.strip() == (
        "bench/peers.py needs NautilusTrader: bash scripts/install.sh test,peers"
    ), done.stderr[-2000:]
