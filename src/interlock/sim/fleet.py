"""An in-process fleet: several gateway instances sharing one embedded control plane.

The embedded backend is exact and in-process, so a whole fleet (eight routers, as Knight
had) fits in one process: the fleet tests, the `interlock fleet knight` demo, the halt
benchmark and the Knight replay use this. Across processes or machines the same fleet runs
on the etcd backend (a later issue), against the same ControlPlane protocol.

A restart is a real one: the instance is closed (it leaves the plane) and a new Gateway is
started on another build, recovering from the journal the old one wrote.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from interlock.api.config import load_config
from interlock.control.attestation import installed_build_digest, short
from interlock.control.embedded import EmbeddedControlPlane
from interlock.control.fleet_halt import HaltReport, halt_fleet
from interlock.control.plane import HaltRecord, Proposal, Release
from interlock.control.ports import ControlPlane
from interlock.domain.enums import HaltScope
from interlock.domain.order import Order
from interlock.flags.manifest import FlagManifest
from interlock.flags.registry import FlagRegistry
from interlock.gateway.config import GatewayConfig
from interlock.gateway.gateway import Gateway
from interlock.instance import build_instance
from interlock.journal.memory import MemoryJournal
from interlock.venue.base import VenueOrder, VenueStatus

REFERENCE = Decimal("100.00")  # every symbol's reference price in the demo fleet


class RecordingVenue:
    """A venue port that records what it is sent and never fills: it answers "did anything
    from this instance reach the venue?"."""

    def __init__(self) -> None:
        self.sent: list[Order] = []
        self.cancels: list[int] = []

    def send(self, order: Order) -> None:
        self.sent.append(order)

    def cancel(self, order_id: int) -> None:
        self.cancels.append(order_id)

    def reconcile(self, orders: Sequence[Order], timeout_s: float = 0.0) -> VenueStatus:
        """What was sent here and not cancelled rests (it never fills)."""
        sent = {o.order_id: o for o in self.sent}
        gone = set(self.cancels)
        asked = {o.order_id for o in orders}
        answer = {oid: VenueOrder(oid, oid in sent, oid in sent and oid not in gone)
                  for oid in asked}  # fmt: skip
        others = tuple(
            VenueOrder(oid, True, True, account=o.account)
            for oid, o in sent.items()
            if oid not in asked and oid not in gone
        )
        return VenueStatus(answer, others)


@dataclass
class Instance:
    gateway: Gateway
    journal: MemoryJournal
    venue: RecordingVenue


@dataclass(frozen=True, slots=True)
class MemberRow:
    """One instance as an operator sees it."""

    instance_id: str
    host_pid: str
    build: str
    flags: str
    epoch: int
    lease_left_ms: int | None  # None: holds no lease
    state: str  # "routing", or the code its orders are refused with


@dataclass(frozen=True, slots=True)
class FleetStatus:
    release: Release
    proposal: Proposal | None
    rows: tuple[MemberRow, ...]

    @property
    def routing(self) -> int:
        return sum(1 for r in self.rows if r.state == "routing")


class InProcessFleet:
    """`size` instances gw-1..gw-N on one plane, all released on one build."""

    def __init__(
        self,
        size: int = 8,
        *,
        config: GatewayConfig | None = None,
        clock: Callable[[], int] = time.time_ns,
        build_digest: str | None = None,
        flag_digest: str = "",
        manifest: FlagManifest | None = None,
        flags: FlagRegistry | None = None,
        disabled_checks: Iterable[str] = (),
        plane: ControlPlane | None = None,
    ) -> None:
        """`plane` None: a new embedded plane, whose flag registry starts as a copy of
        `flags`. Another backend is released to this fleet at its next epoch. Every instance
        starts on `build_digest` with flag `manifest` (`flag_digest` "": its digest)."""
        if plane is not None and flags is not None:
            raise ValueError("give the flag registry to the plane, not to a fleet joining it")
        if manifest is not None and not flag_digest:
            flag_digest = manifest.digest()
        base = config or load_config()
        self.clock = clock
        self.disabled_checks = tuple(disabled_checks)
        build = installed_build_digest() if build_digest is None else build_digest
        ids = tuple(f"gw-{i}" for i in range(1, size + 1))
        self.config_digest = base.fleet_digest()  # every instance's: only its name differs
        digest = self.config_digest
        self.plane: ControlPlane
        if plane is None:
            release = Release(build, flag_digest, 1, ids, config_digest=digest)
            self.plane = EmbeddedControlPlane(release, clock, flags)
        else:
            self.plane = plane
            epoch = plane.release().epoch + 1
            plane.set_release(Release(build, flag_digest, epoch, ids, config_digest=digest),
                              "fleet")  # fmt: skip
        self.configs = {i: base.model_copy(update={"instance_id": i}) for i in ids}
        self.instances = {
            i: self._start(i, MemoryJournal(), build, flag_digest, manifest) for i in ids
        }

    def _start(
        self,
        instance_id: str,
        journal: MemoryJournal,
        build: str,
        flags: str,
        manifest: FlagManifest | None,
    ) -> Instance:
        venue = RecordingVenue()
        gw = build_instance(self.configs[instance_id], journal=journal, venue=venue,
                            plane=self.plane, clock=self.clock,
                            disabled_checks=self.disabled_checks, build_digest=build,
                            flag_digest=flags, flag_manifest=manifest)  # fmt: skip
        self._refresh(gw)
        return Instance(gw, journal, venue)

    def __getitem__(self, instance_id: str) -> Gateway:
        return self.instances[instance_id].gateway

    @property
    def ids(self) -> list[str]:
        return list(self.instances)

    def restart(
        self,
        instance_id: str,
        build_digest: str,
        flag_digest: str = "",
        manifest: FlagManifest | None = None,
        config: GatewayConfig | None = None,
    ) -> Gateway:
        """Stop `instance_id` and start it again on another build (and `config`, if given:
        a straggler on edited limits), from its own journal."""
        if config is not None:
            self.configs[instance_id] = config.model_copy(update={"instance_id": instance_id})
        old = self.instances[instance_id]
        old.gateway.close()
        self.instances[instance_id] = self._start(
            instance_id, old.journal.reopened(), build_digest, flag_digest, manifest
        )
        return self.instances[instance_id].gateway

    def stop(self, instance_id: str) -> None:
        """Stop `instance_id` (it leaves the plane); `restart` starts it again."""
        gw = self.instances[instance_id].gateway
        gw.close()
        gw.gate.member_lost(instance_id)  # it stopped watching before it left

    def heartbeat(self, ids: Iterable[str] | None = None) -> dict[str, bool]:
        """Renew the leases of `ids` (all by default); whether each renewal succeeded."""
        return {i: self[i].heartbeat() for i in (self.ids if ids is None else ids)}

    def refresh_references(self) -> None:
        for inst in self.instances.values():
            self._refresh(inst.gateway)

    def _refresh(self, gw: Gateway) -> None:
        for symbol, inst in gw.instruments.items():
            ticks = inst.to_ticks(REFERENCE)
            gw.update_reference(symbol, ticks if ticks is not None else 100)

    def halt(
        self, scope: HaltScope, target: str, reason: str, who: str, bound_ms: float = 1_000
    ) -> HaltReport:
        """A halt written by an operator (not by one instance), confirmed by the fleet."""
        target = "" if scope is HaltScope.GLOBAL else target
        return halt_fleet(self.plane, HaltRecord(scope, target, reason, who, self.clock()),
                          bound_ms)  # fmt: skip

    def sent(self, instance_id: str) -> int:
        """Orders the venue received from `instance_id` (since its last restart)."""
        return len(self.instances[instance_id].venue.sent)

    def status(self) -> FleetStatus:
        now = self.clock()
        leases = {m.instance_id: m.lease_expires_ns for m in self.plane.members()}
        rows = []
        for instance_id, inst in self.instances.items():
            gw = inst.gateway
            a = gw.attestation
            deadline = leases.get(instance_id)
            rows.append(
                MemberRow(
                    instance_id,
                    f"{a.host}/{a.pid}",
                    short(a.build_digest),
                    short(a.flag_digest),
                    gw.gate.epoch,
                    None if deadline is None else (deadline - now) // 1_000_000,
                    gw.gate.state(now),
                )
            )
        return FleetStatus(self.plane.release(), self.plane.proposal(), tuple(rows))

    def close(self) -> None:
        for inst in self.instances.values():
            inst.gateway.close()
