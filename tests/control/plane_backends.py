"""Backends for the control-plane conformance suite (tests/control/test_port_*.py).

Each entry of BACKENDS is a factory taking the test's `pytest.FixtureRequest` (a backend
may need fixtures: etcd takes the `etcd_cluster` and a key prefix of its own) and returning
a `Backend`, whose `close()` the suite calls at teardown. Adding `"etcd": factory` runs
every port's file against it unchanged, because the tests assume no more than an
asynchronous backend gives:

- watch events may arrive on another thread, later: wait with `events_of(kind, n)` or
  `eventually(...)`; to assert that nothing more came, `settle()` first (a marker change
  made after, whose own event is heard: events are delivered in the order made);
- time passes only through `advance_ms` (a manual clock embedded; a real sleep on etcd,
  whose leases are whole seconds, so `ttl_ms` is 1-2 s and few tests let a lease expire);
- a lease past its deadline is gone at once embedded, within the server's expiry lag on
  etcd: wait for it with `eventually`.
"""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import pytest

from interlock.control.embedded import EmbeddedControlPlane
from interlock.control.etcd_plane import EtcdControlPlane
from interlock.control.plane import Attestation, ControlEvent, HaltPut, HaltRecord, HaltRemoved
from interlock.control.ports import ControlPlane
from interlock.domain.enums import HaltScope
from interlock.flags import FlagManifest
from interlock.sim.harness import START_NS, ManualClock

E = TypeVar("E")
MARKER = "~settle"
"""Target prefix of the instance halts `settle()` puts and lifts (never seen by the tests)."""
POLL_S = 0.005
_markers = itertools.count(1)


def is_marker(event: object) -> bool:
    """A `settle()` marker's own event: left out of what a test hears."""
    if isinstance(event, HaltPut):
        return event.halt.target.startswith(MARKER)
    return isinstance(event, HaltRemoved) and event.target.startswith(MARKER)


@dataclass
class Backend:
    name: str
    plane: ControlPlane
    advance_ms: Callable[[int], object]
    now: Callable[[], int]
    ttl_ms: int = 1_000  # etcd's smallest practical lease is about a second
    synchronous: bool = False  # every effect and event is done when the call returns
    examples: int = 150  # hypothesis examples per property (each builds a fresh backend)
    close: Callable[[], object] = lambda: None
    events: list[ControlEvent] = field(default_factory=list)

    @property
    def ttl_ns(self) -> int:
        return self.ttl_ms * 1_000_000

    def record(self, event: ControlEvent) -> None:
        """The suite's watcher (any thread): every event but settle markers."""
        if not is_marker(event):
            self.events.append(event)

    def join(
        self,
        instance_id: str,
        build: str = "b1",
        flags: str | None = None,
        manifest: FlagManifest | None = None,
        config: str = "cfg",
    ) -> int:
        """Register under a fresh lease (see `attestation` for `flags`)."""
        a = attestation(instance_id, build, flags, manifest, config)
        return self.plane.register(a, self.ttl_ns)

    def ids(self) -> list[str]:
        return sorted(m.instance_id for m in self.plane.members())

    def of(self, kind: type[E]) -> list[E]:
        """The events of `kind` heard so far (wait first: `events_of`, `settle`)."""
        return [e for e in list(self.events) if isinstance(e, kind)]

    def eventually(
        self, predicate: Callable[[], object], timeout_s: float = 5.0, what: str = ""
    ) -> None:
        """Poll `predicate` until true; fail at the deadline saying what was awaited. A
        synchronous backend is asked once: what has not happened yet never will."""
        deadline = time.monotonic() + (0.0 if self.synchronous else timeout_s)
        while not predicate():
            if time.monotonic() >= deadline:
                waited = 0.0 if self.synchronous else timeout_s
                pytest.fail(f"{self.name}: not true after {waited:.1f} s: {what or predicate}")
            time.sleep(POLL_S)

    def events_of(self, kind: type[E], n: int = 1, timeout_s: float = 5.0) -> list[E]:
        """Wait until at least `n` events of `kind` were heard; all of them so far."""
        self.eventually(lambda: len(self.of(kind)) >= n, timeout_s,
                        f"{n} {kind.__name__} event(s); heard {self.of(kind)}")  # fmt: skip
        return self.of(kind)

    def settle(self, timeout_s: float = 5.0) -> None:
        """Every event of the changes made so far has been heard: a marker halt is put and
        lifted and its own removal heard (a watch delivers in the order changes were
        made). The marker is gone again when this returns."""
        target = f"{MARKER}-{next(_markers)}"
        heard: list[object] = []
        stop = self.plane.watch(heard.append)
        try:
            self.plane.put_halt(HaltRecord(HaltScope.INSTANCE, target, "settle", "suite", 0))
            self.plane.remove_halt(HaltScope.INSTANCE, target, "suite")
            self.eventually(
                lambda: any(isinstance(e, HaltRemoved) and e.target == target for e in heard),
                timeout_s, f"the settle marker {target} heard back",
            )  # fmt: skip
        finally:
            stop()


def attestation(
    instance_id: str,
    build: str = "b1",
    flags: str | None = None,
    manifest: FlagManifest | None = None,
    config: str = "cfg",
) -> Attestation:
    """`flags` None: the manifest's digest, or the label "f1" without a manifest."""
    if flags is None:
        flags = manifest.digest() if manifest is not None else "f1"
    return Attestation(instance_id, build, flags, config, "host", 1, manifest)


def _embedded(request: pytest.FixtureRequest) -> Backend:
    clock = ManualClock(START_NS)
    plane = EmbeddedControlPlane(clock=clock)
    return Backend("embedded", plane, clock.advance_ms, clock, synchronous=True)


def _etcd(request: pytest.FixtureRequest) -> Backend:
    """A fresh fleet (its own key prefix) on the session's real 3-node cluster."""
    cluster = request.getfixturevalue("etcd_cluster")
    prefix = f"test/conformance/{uuid.uuid4().hex}"
    plane = EtcdControlPlane(f"etcd://{cluster.endpoints}", prefix=prefix)
    return Backend("etcd", plane, lambda ms: time.sleep(ms / 1_000), time.time_ns,
                   examples=10, close=plane.close)  # fmt: skip


BACKENDS: dict[str, Callable[[pytest.FixtureRequest], Backend]] = {
    "embedded": _embedded,
    "etcd": _etcd,
}
