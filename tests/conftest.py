"""Fixtures every test package may use: real etcd clusters and a real PostgreSQL server
(see docs/testing.md).

`etcd_cluster` is one 3-node cluster shared by the whole session, for tests that only read
and write (conformance suites): each isolates itself under its own `etcd_prefix` and
never faults the shared nodes. `etcd_cluster_factory` makes fresh clusters for fault
tests (kill, pause, partition) and closes them after the test. `postgres_dsn` is one
throwaway PostgreSQL cluster for the session (tests isolate themselves by instance id);
`postgres_cluster_factory` makes fresh ones a test may stop. A missing `etcd` or
PostgreSQL fails the test with the fix; it is never skipped.

The Hypothesis profile (`ci` unless `HYPOTHESIS_PROFILE=thorough`) is loaded here, before
any test module is imported: see tests/hypothesis_profiles.py.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from hypothesis_profiles import load_from_env
from interlock.sim.etcd_cluster import ETCD_HINT, EtcdCluster
from interlock.sim.postgres_cluster import PG_HINT, PostgresCluster, pg_bin_dir

try:
    load_from_env()
except ValueError as exc:
    raise pytest.UsageError(str(exc)) from None


def _require_etcd() -> None:
    if shutil.which("etcd") is None:
        pytest.fail(
            f"etcd is not on PATH, and tests that need it never skip: {ETCD_HINT}", pytrace=False
        )


@pytest.fixture(scope="session")
def etcd_cluster() -> Iterator[EtcdCluster]:
    """One shared, healthy 3-node cluster for the session: do not kill or pause it."""
    _require_etcd()
    with EtcdCluster(3) as cluster:
        yield cluster


@pytest.fixture
def etcd_cluster_factory() -> Iterator[Callable[..., EtcdCluster]]:
    """`make(nodes=3, **kwargs)`: a fresh, healthy cluster, closed when the test ends."""
    _require_etcd()
    made: list[EtcdCluster] = []

    def make(nodes: int = 3, **kwargs: Any) -> EtcdCluster:
        cluster = EtcdCluster(nodes, **kwargs)
        made.append(cluster)
        return cluster

    yield make
    for cluster in made:
        cluster.close()


@pytest.fixture
def etcd_prefix() -> str:
    """A key prefix no other test uses, so tests can share `etcd_cluster`."""
    return f"/test/{uuid.uuid4().hex}/"


def _require_postgres() -> None:
    if pg_bin_dir() is None:
        pytest.fail(
            f"PostgreSQL (initdb, pg_ctl) is not installed, and tests that need it never "
            f"skip: {PG_HINT}",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def postgres_dsn() -> Iterator[str]:
    """The DSN of one throwaway PostgreSQL server (temp dir, free loopback port) for the
    session, stopped and removed after it: do not stop it; isolate by instance id."""
    _require_postgres()
    with PostgresCluster() as cluster:
        yield cluster.dsn


@pytest.fixture
def postgres_cluster_factory() -> Iterator[Callable[[], PostgresCluster]]:
    """`make()`: a fresh PostgreSQL server of the test's own (it may stop it), closed after."""
    _require_postgres()
    made: list[PostgresCluster] = []

    def make() -> PostgresCluster:
        cluster = PostgresCluster()
        made.append(cluster)
        return cluster

    yield make
    for cluster in made:
        cluster.close()
