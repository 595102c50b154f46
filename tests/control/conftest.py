"""Fixtures for the control-plane conformance suite: one parameter per backend (see
plane_backends.BACKENDS), each backend watched by the suite and closed at teardown."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from plane_backends import BACKENDS, Backend


@pytest.fixture(params=sorted(BACKENDS))
def make_backend(request: pytest.FixtureRequest) -> Iterator[Callable[[], Backend]]:
    """A factory of fresh, watched backends of one kind (hypothesis tests need several);
    every one made is closed when the test ends."""
    made: list[Backend] = []

    def make() -> Backend:
        backend = BACKENDS[request.param](request)
        made.append(backend)
        backend.plane.watch(backend.record)
        return backend

    yield make
    for backend in reversed(made):
        backend.close()


@pytest.fixture
def backend(make_backend: Callable[[], Backend]) -> Backend:
    return make_backend()
