"""Backends for the ControlPlane conformance suite.

Each backend is built by a factory that returns the plane and a way to let time pass: the
embedded plane runs on a manual clock (no sleeps); the etcd backend (a later issue) adds
itself to BACKENDS with a factory whose `advance_ms` sleeps, and every test runs unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from interlock.control.embedded import EmbeddedControlPlane
from interlock.control.plane import Attestation, ControlEvent
from interlock.control.ports import ControlPlane
from interlock.flags import FlagManifest
from interlock.sim.harness import START_NS, ManualClock


@dataclass
class Backend:
    name: str
    plane: ControlPlane
    advance_ms: Callable[[int], object]
    now: Callable[[], int]
    ttl_ms: int = 1_000  # etcd's smallest practical lease is about a second
    events: list[ControlEvent] = field(default_factory=list)

    @property
    def ttl_ns(self) -> int:
        return self.ttl_ms * 1_000_000

    def join(
        self,
        instance_id: str,
        build: str = "b1",
        flags: str | None = None,
        manifest: FlagManifest | None = None,
    ) -> int:
        """Register under a fresh lease (see `attestation` for `flags`)."""
        return self.plane.register(attestation(instance_id, build, flags, manifest), self.ttl_ns)

    def of(self, kind: type) -> list[ControlEvent]:
        return [e for e in self.events if isinstance(e, kind)]


def attestation(
    instance_id: str,
    build: str = "b1",
    flags: str | None = None,
    manifest: FlagManifest | None = None,
) -> Attestation:
    """`flags` None: the manifest's digest, or the label "f1" without a manifest."""
    if flags is None:
        flags = manifest.digest() if manifest is not None else "f1"
    return Attestation(instance_id, build, flags, "cfg", "host", 1, manifest)


def _embedded() -> Backend:
    clock = ManualClock(START_NS)
    return Backend("embedded", EmbeddedControlPlane(clock=clock), clock.advance_ms, clock)


BACKENDS: dict[str, Callable[[], Backend]] = {"embedded": _embedded}
