"""Fleets of real `interlock serve` processes on a real etcd cluster (tests/conftest.py
starts the clusters), and the waits the fault tests share."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from interlock.control.etcd_plane import EtcdControlPlane
from interlock.sim.etcd_cluster import EtcdCluster
from interlock.sim.serve_fleet import ServeFleet

FleetFactory = Callable[..., ServeFleet]


@pytest.fixture
def serve_fleet(tmp_path: Path) -> Iterator[FleetFactory]:
    """`make(cluster, **kwargs)`: an empty ServeFleet on `cluster` under a fresh prefix;
    every process it started is stopped when the test ends."""
    made: list[ServeFleet] = []

    def make(cluster: EtcdCluster, **kwargs: Any) -> ServeFleet:
        kwargs.setdefault("prefix", f"test/{uuid.uuid4().hex[:12]}")
        fleet = ServeFleet(tmp_path / f"fleet{len(made)}", f"etcd://{cluster.endpoints}", **kwargs)
        made.append(fleet)
        return fleet

    yield make
    for fleet in made:
        fleet.close()


@pytest.fixture
def operator() -> Iterator[Callable[[ServeFleet], EtcdControlPlane]]:
    """`connect(fleet)`: an operator's own client of the fleet's plane (closed after)."""
    planes: list[EtcdControlPlane] = []

    def connect(fleet: ServeFleet) -> EtcdControlPlane:
        plane = EtcdControlPlane(fleet.control_plane, prefix=fleet.prefix)
        planes.append(plane)
        return plane

    yield connect
    for plane in planes:
        plane.close()
