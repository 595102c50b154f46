"""`interlock serve` journaling to a real PostgreSQL server: what it acknowledged survives a
SIGTERM and a restart (same orders, same positions), one writer per instance id across
processes, and a database that is not there is one line with a stable code, not a trace."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from interlock.sim.serve_fleet import ServeFleet, dump_toml, packaged_config, wait_until

DSN_ENV = "INTERLOCK_TEST_JOURNAL_DSN"


def _instance() -> str:
    return f"gw-pg-{uuid.uuid4().hex[:10]}"


def _postgres(**keys: object) -> dict[str, object]:
    return {"journal": {"kind": "postgres", **keys}}


def test_serve_on_postgres_restarts_with_the_same_orders_and_positions(
    tmp_path: Path, postgres_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(DSN_ENV, postgres_dsn)  # the DSN from the environment, as in production
    name = _instance()
    with ServeFleet(tmp_path, "embedded", extra=_postgres(dsn_env=DSN_ENV)) as fleet:
        first = fleet.start(name).wait_started()
        line = f"journal postgres (instance {name}, DSN from ${DSN_ENV})"
        deadline = time.monotonic() + 10  # announced just after the listeners' lines
        while line not in first.log_tail() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert line in first.log_tail()
        filled = first.submit("pg-fill", quantity=300, price="101.00")  # crosses the ask
        working = first.submit("pg-rest", quantity=200, price="96.00")  # rests in the book
        sold = first.submit("pg-sell", side="sell_short", symbol="SPY", quantity=100,
                            price="99.00")  # short: SPY is easy to borrow  # fmt: skip
        assert [r.status_code for r in (filled, working, sold)] == [201, 201, 201]
        ids = [r.json()["order_id"] for r in (filled, working, sold)]
        wait_until(lambda: first.order(ids[0])["status"] == "filled", 10, "the buy filled")
        wait_until(lambda: first.order(ids[2])["status"] == "filled", 10, "the sell filled")
        before_orders = {i: first.order(i) for i in ids}
        before_positions = first.positions()
        assert before_positions["AAPL"] == (300, 200) and before_positions["SPY"][0] == -100
        first.stop()  # SIGTERM: drain, flush, close
        assert first.proc.returncode == 0, first.log_tail()
        assert "stopped; journal durable up to seq" in first.log_tail()

        again = fleet.start(name).wait_started()
        after_orders = {i: again.order(i) for i in ids}
        assert {i: after_orders[i] for i in (ids[0], ids[2])} == {
            i: before_orders[i] for i in (ids[0], ids[2])
        }  # the filled orders came back exactly
        # the resting one rested at the in-process simulated venue, which died with the
        # first process: the start's reconciliation closes it and frees its reservation
        assert before_orders[ids[1]]["status"] == "working"
        assert after_orders[ids[1]]["status"] == "cancelled"
        assert again.positions() == {**before_positions, "AAPL": (300, 0)}
        again_resp = again.submit("pg-after", quantity=100, price="96.00")
        assert again_resp.status_code == 201, again_resp.text
        assert again_resp.json()["order_id"] > max(ids)  # the id counter came back too


def test_a_second_serve_with_the_same_instance_id_on_one_database_is_refused(
    tmp_path: Path, postgres_dsn: str
) -> None:
    name = _instance()
    with ServeFleet(tmp_path, "embedded", extra=_postgres(dsn=postgres_dsn)) as fleet:
        first = fleet.start("first", config={"instance_id": name}).wait_started()
        second = fleet.start("second", config={"instance_id": name})
        assert second.proc.wait(timeout=30) == 1
        wait_until(lambda: bool(second.output), 5, "the second process said why")
        refusal = [line for line in second.output if "serve failed" in line]
        assert len(refusal) == 1, second.log_tail()
        assert refusal[0].startswith("serve failed: JOURNAL_ERROR: ")
        assert f"postgres journal of instance {name!r} is in use by another writer" in refusal[0]
        assert "Traceback" not in second.log_tail()
        assert first.submit("still-mine").status_code == 201  # the first one trades on


def test_serve_with_an_unreachable_database_fails_in_one_line_with_a_stable_code(
    tmp_path: Path,
) -> None:
    from interlock.sim.procs import free_ports

    config = packaged_config()
    config.update(rest={"port": 0}, admin={"port": 0}, calendar={"always_open": True})
    dsn = f"host=127.0.0.1 port={free_ports(1)[0]} dbname=postgres user=postgres"
    config.update(_postgres(dsn=dsn, connect_timeout_ms=1_000))
    path = tmp_path / "serve.toml"
    path.write_text(dump_toml(config))
    done = subprocess.run(
        [sys.executable, "-m", "interlock.cli", "serve", "--config", str(path)],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
        env={**os.environ, "COLUMNS": "400"},
    )  # fmt: skip
    assert done.returncode == 1
    lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert lines[0].startswith("serve failed: JOURNAL_ERROR: cannot open postgres journal")
    assert "Connection refused" in lines[0]
