"""Helpers for the tests against the peer NautilusTrader (the `peers` extra, which
scripts/test.sh installs). NautilusTrader only ever runs in a child process
(`peer_case.py`, `bench/peers.py`): its ~170 compiled modules never load into the suite's
own process. Without nautilus_trader installed, the tests that need it skip and name the
install."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import msgspec
import pytest

from interlock.domain.commands import OrderRequest

BENCH = Path(__file__).resolve().parents[2] / "bench"
PEERS_HINT = "needs the peers extra (NautilusTrader): bash scripts/install.sh test,peers"
CASE = Path(__file__).with_name("peer_case.py")


def require_peer() -> None:
    """Skip unless nautilus_trader is installed; looked up, not imported."""
    if importlib.util.find_spec("nautilus_trader") is None:
        pytest.skip(PEERS_HINT)


def peer_cases(cases: list[tuple[str, OrderRequest]]) -> list[dict[str, Any]]:
    """Each (account type, order) through a fresh NautilusTrader RiskEngine, all in one
    child process (peer_case.py): the outcome, what the client got, the settings used."""
    argv = [sys.executable, str(CASE)]
    for account_type, request in cases:
        argv += [account_type, msgspec.json.encode(request).decode()]
    env = {**os.environ, "PYTHONPATH": str(BENCH)}
    done = subprocess.run(argv, capture_output=True, text=True, timeout=180, env=env)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    result: list[dict[str, Any]] = json.loads(done.stdout.strip().splitlines()[-1])
    assert len(result) == len(cases)
    return result
