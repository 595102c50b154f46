"""One default Knight replay per test session: the full 45 minutes on the default seed."""

from __future__ import annotations

import pytest

from interlock.replay import DEFAULT_SEED, KnightReport, run_knight


@pytest.fixture(scope="session")
def knight() -> KnightReport:
    return run_knight(DEFAULT_SEED)
