"""Fixtures for the ControlPlane conformance suite: one parameter per backend (see
plane_backends.BACKENDS)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from plane_backends import BACKENDS, Backend


@pytest.fixture(params=sorted(BACKENDS))
def make_backend(request: pytest.FixtureRequest) -> Callable[[], Backend]:
    """A factory of fresh, watched backends of one kind (hypothesis tests need several)."""

    def make() -> Backend:
        backend = BACKENDS[request.param]()
        backend.plane.watch(backend.events.append)
        return backend

    return make


@pytest.fixture
def backend(make_backend: Callable[[], Backend]) -> Backend:
    return make_backend()
