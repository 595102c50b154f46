"""A whole FIX fuzz campaign against a real `interlock serve` process, as one function.

`campaign` starts serve (sim/serve_fleet.py: the packaged config, FIX acceptor on a
loopback port, its journal in `work`), then: fuzz sessions in parallel (sim/fix_fuzz_run.py),
a logon flood with slow-loris connections held open meanwhile, a probe order during and
after them; then SIGTERM, and `interlock journal verify` on the journal. The report says
what was sent, how each was answered, what serve logged at error level, and whether the
process lived. The test (tests/fix/test_fix_fuzz.py) and the benchmark (bench/fix_fuzz.py)
are two sizes of this one campaign.

The config raises the rate limits and runaway monitors, as the soak does: with the
packaged ones a fuzz flood is (correctly) throttled and then halted by the reject-storm
monitor within a second, and every later message would test the halt, not the acceptor.
The probe desk has an account of its own (`probe-1`), so what the fuzz desks did to
desk-7's position and limits cannot refuse it.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from interlock.sim.fix_client import free_port
from interlock.sim.fix_fuzz import Fuzzer
from interlock.sim.fix_fuzz_run import (
    FuzzSession,
    SlowLoris,
    Tally,
    logon_flood,
    probe_order,
)
from interlock.sim.fix_wire import RawSession
from interlock.sim.harness import DESK_KEY, MM_KEY
from interlock.sim.serve_fleet import ServeFleet, packaged_config

PROBE_KEY = "fuzz-probe-key"
_HUGE = "100000000000"
_FAST = {"count": 1_000_000, "window_ms": 1_000}
# comp_id, username, key, account, ClOrdID prefix
FUZZ_DESKS = (("DESK1", "desk-7-algo", DESK_KEY, "desk-7", "d1"),
              ("DESK2", "desk-7-algo", DESK_KEY, "desk-7", "d2"),
              ("MM1", "market-making", MM_KEY, "mm-1", "m1"))  # fmt: skip
FLOOD_DESK, PROBE_DESK = "DESK4", "PROBE1"


def fuzz_config(port: int) -> dict[str, Any]:
    """What the fuzz serve adds to the packaged config: FIX sessions, the probe's key,
    rate limits and monitors raised (see the module docstring)."""
    sessions = [{"comp_id": c, "username": u, "account": a, "strategy": "vwap"}
                for c, u, _, a, _ in FUZZ_DESKS]  # fmt: skip
    sessions.append({"comp_id": FLOOD_DESK, "username": "desk-7-algo", "account": "desk-7",
                     "strategy": "vwap"})  # fmt: skip
    sessions.append({"comp_id": PROBE_DESK, "username": "fuzz-probe", "account": "probe-1",
                     "strategy": "vwap"})  # fmt: skip
    probe = {"principal": "fuzz-probe", "accounts": ["probe-1"], "strategies": ["*"],
             "key_sha256": hashlib.sha256(PROBE_KEY.encode()).hexdigest()}  # fmt: skip
    return {
        "api_keys": [*packaged_config()["api_keys"], probe],
        "fix": {"port": port, "file_log": False, "sessions": sessions},
        "limits": {
            "defaults": {"max_orders_per_second": 1_000_000, "max_orders_per_minute": 60_000_000,
                         "max_notional_per_second": _HUGE, "max_notional_per_minute": _HUGE},
            "rates": {"per_instance": _FAST, "per_strategy": _FAST, "per_symbol": _FAST},
            "messages": {"per_session": _FAST, "per_instance": _FAST},
            "accounts": {"probe-1": {"max_order_notional": "500000"}},
        },
        "monitors": {
            "account_flow": {"max_orders": 1_000_000, "instance_max_orders": 1_000_000,
                             "window_ms": 1_000},
            "reject_storm": {"min_rejects": 1_000_000, "instance_min_rejects": 1_000_000,
                             "share": 0.99, "window_ms": 1_000},
            "order_to_fill": {"max_ratio": 1_000_000.0, "min_orders": 1_000_000,
                              "window_ms": 2_000},
            "repeated_child": {"count": 1_000_000, "window_ms": 2_000},
        },
    }  # fmt: skip


def _fuzz(port: int, messages: int, seed: int, tally: Tally) -> list[str]:
    """`messages` cases split over the fuzz desks, one thread each; their errors."""
    errors: list[str] = []
    prefixes = tuple(p for *_, p in FUZZ_DESKS)

    def one(i: int) -> None:
        comp, user, key, account, prefix = FUZZ_DESKS[i]
        others = tuple(p for p in prefixes if p != prefix)
        session = RawSession("127.0.0.1", port, comp.encode(), key.encode(),
                             username=user.encode())  # fmt: skip
        share = messages // len(FUZZ_DESKS) + (i < messages % len(FUZZ_DESKS))
        try:
            FuzzSession(session, tally).run(Fuzzer(seed * 100 + i, prefix, account, others),
                                            share, comp)  # fmt: skip
        except Exception as e:  # the report says what stopped a desk
            errors.append(f"{comp}: {type(e).__name__}: {e}")
        finally:
            session.close()

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(FUZZ_DESKS))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def _logon_attack(port: int, attempts: int, loris: int, seed: int) -> dict[str, Any]:
    """The flood with slow-loris connections held open; the probe during and after."""
    host, desk = "127.0.0.1", FLOOD_DESK.encode()
    kinds = {
        "good": (desk, b"desk-7-algo", DESK_KEY.encode()),
        "bad_password": (desk, b"desk-7-algo", b"not-the-key"),
        "wrong_user": (desk, b"market-making", MM_KEY.encode()),
        "unknown_compid": (b"NOBODY", b"desk-7-algo", DESK_KEY.encode()),
        "live_compid": (b"DESK1", b"desk-7-algo", DESK_KEY.encode()),
        "empty_password": (desk, b"desk-7-algo", b""),
    }
    slow = SlowLoris(host, port, loris, desk)
    try:
        t0 = time.monotonic()
        outcomes = logon_flood(host, port, kinds, attempts, parallel=16, seed=seed)
        flood_s = time.monotonic() - t0
        during = probe_order(host, port, PROBE_DESK.encode(), b"fuzz-probe", PROBE_KEY.encode(),
                             "probe-during")  # fmt: skip
        loris_bytes = slow.bytes_sent
    finally:
        slow.close()
    loris_closed = slow.closed_by_peer
    after = probe_order(host, port, PROBE_DESK.encode(), b"fuzz-probe", PROBE_KEY.encode(),
                        "probe-after", qty=200)  # fmt: skip
    return {"flood_attempts": attempts, "flood_seconds": round(flood_s, 2),
            "flood_outcomes": {k: dict(v) for k, v in outcomes.items()},
            "flood_timeouts": sum(v["timeout"] for v in outcomes.values()),
            "slow_loris_connections": loris, "slow_loris_bytes": loris_bytes,
            "slow_loris_closed": loris_closed,
            "probe_during": during, "probe_after": after}  # fmt: skip


def campaign(work: Path, *, messages: int, seed: int = 1, flood: int = 200, loris: int = 20,
             extra: Mapping[str, Any] | None = None) -> dict[str, Any]:  # fmt: skip
    """Start serve, fuzz it, attack its logon, stop it, verify its journal: the report."""
    port = free_port()
    fleet = ServeFleet(work, "embedded", extra={**fuzz_config(port), **dict(extra or {})})
    serve = fleet.start("gw-1").wait_started(60)
    journal = serve.workdir / "journal.db"
    tally = Tally()
    started = time.monotonic()
    try:
        _wait_listening(serve.output, 30)
        errors = _fuzz(port, messages, seed, tally)
        fuzz_s = time.monotonic() - started
        alive_after_fuzz = serve.proc.poll() is None
        logon = _logon_attack(port, flood, loris, seed)
        alive = serve.proc.poll() is None
    finally:
        serve.stop(30)
    verify = subprocess.run([sys.executable, "-m", "interlock.cli", "journal", "verify",
                             str(journal)], capture_output=True, text=True)  # fmt: skip
    (work / "serve.log").write_text("\n".join(serve.output) + "\n")
    logged = [line for line in serve.output if _is_error(line)]
    alerts = sorted({line.split("alert ", 1)[-1].split(" fired")[0]
                     for line in serve.output if "alert.fired" in line})  # fmt: skip
    return {"messages": messages, "seed": seed, "fuzz_seconds": round(fuzz_s, 1),
            "messages_per_s": round(tally.total / max(fuzz_s, 1e-9), 1), **tally.as_dict(),
            "desk_errors": errors, "alive_after_fuzz": alive_after_fuzz,
            "alive_at_end": alive, "crashed": not alive, **logon,
            "serve_exit_code": serve.proc.returncode,
            "serve_errors_logged": len(logged), "serve_error_examples": logged[:10],
            "serve_alerts_fired": alerts,
            "journal_verify_exit": verify.returncode,
            "journal_verify_tail": verify.stdout.strip().splitlines()[-3:]}  # fmt: skip


def _wait_listening(output: list[str], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not any("fix acceptor listening" in line for line in list(output)):
        if time.monotonic() > deadline:
            raise AssertionError("serve's FIX acceptor did not start:\n" + "\n".join(output))
        time.sleep(0.05)


def _is_error(line: str) -> bool:
    """A fault serve logged; the reject-rate alert is the product seeing the fuzz, not one."""
    if "alert.fired" in line or "alert.resolved" in line:
        return False
    return any(w in line for w in ("Traceback", " ERROR ", "CRITICAL", "Exception"))


__all__ = ["FUZZ_DESKS", "PROBE_KEY", "campaign", "fuzz_config"]
