"""Issue 15, FIX: a running `interlock serve` survives a seeded fuzz of its acceptor.

A real serve process (sim/fix_fuzz_serve.py), real TCP on 127.0.0.1, three raw-socket
desks: 2,000 cases from sim/fix_fuzz.py (garbage in every tag of D, F, G, H, q; missing,
repeated, unknown and reordered tags; unknown MsgTypes; hostile but valid orders; seq
faults; broken framing), then a logon flood with slow-loris connections held open. Every
case is answered, or dropped by the engine with the session proven alive, or (34/52
unusable) disconnected by the engine; nothing is silent, nothing wedges, no fault is
logged, a probe desk's order is acked during and after the flood, serve exits 0 on
SIGTERM and its journal verifies. bench/fix_fuzz.py is the same campaign at 100,000."""

from __future__ import annotations

from pathlib import Path

from interlock.sim.fix_fuzz_serve import campaign


def test_serve_answers_every_fuzzed_fix_message_and_its_journal_verifies(tmp_path: Path) -> None:
    r = campaign(tmp_path, messages=2_000, seed=15, flood=120, loris=8)
    assert r["sent"] == 2_000 and r["desk_errors"] == [], r["desk_errors"]
    accounted = r["answered"] + r["dropped_by_engine"] + r["disconnected_by_engine"]
    assert accounted == r["sent"], (r["silent_examples"], r["answered_by_kind"])
    assert r["silent"] == 0 and r["wedged"] == 0, r["silent_examples"]
    assert r["internal_errors"] == 0, r["internal_error_examples"]
    assert r["serve_errors_logged"] == 0, r["serve_error_examples"]
    # every way of answering shows up: the generator reaches each layer
    assert {"8", "9", "j", "r", "3", "2", "5"} <= set(r["answered_by_kind"]), r
    assert r["dropped_by_engine"] > 0 and r["sent_by_class"]["frame"] > 0
    assert r["flood_timeouts"] == 0, r["flood_outcomes"]
    assert r["slow_loris_closed"] == r["slow_loris_connections"], r
    assert r["probe_during"].startswith("ack:") and r["probe_after"].startswith("ack:"), r
    assert r["alive_at_end"] and not r["crashed"] and r["serve_exit_code"] == 0
    assert r["journal_verify_exit"] == 0, r["journal_verify_tail"]
