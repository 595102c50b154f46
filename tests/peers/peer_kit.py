"""Helpers for the tests against the peer NautilusTrader (the `peers` extra, which
scripts/test.sh installs): bench/ on the import path for its peer builder
(bench/nautilus_peer.py) and hotpath.py's config and order mix. Without nautilus_trader
installed the tests skip, naming the install."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
PEERS_HINT = "needs the peers extra (NautilusTrader): bash scripts/install.sh test,peers"


def require_peer() -> None:
    pytest.importorskip("nautilus_trader", reason=PEERS_HINT)
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))
