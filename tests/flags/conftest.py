"""Fixtures for the flag tests."""

from __future__ import annotations

import pytest
from knight_flags import knight_registry

from interlock.flags import FlagRegistry


@pytest.fixture
def registry() -> FlagRegistry:
    """Power Peg (id 1) retired; RLP registered as id 8 and off."""
    return knight_registry()
