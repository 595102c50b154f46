"""The instance gate: may this instance route at all? Checked on every order, from a cache.

The cache is refreshed by the control plane (watch callbacks, lease renewals), never by a
call per order. Every failure closes the gate: a lease past its deadline means this
instance can no longer prove it is part of the fleet, so it stops by itself within its TTL.
"""

from __future__ import annotations

from interlock.domain.reject import RejectCode, Rejection, reject

_NS_PER_MS = 1_000_000


class InstanceGate:
    __slots__ = ("epoch", "fleet_epoch", "instance_id", "lease_deadline", "not_attested")

    def __init__(self, instance_id: str) -> None:
        self.instance_id = instance_id
        self.lease_deadline = 0  # ns; 0 = never registered
        self.epoch = 0  # the release epoch this instance attested under
        self.fleet_epoch = 0  # the release epoch the control plane says is current
        self.not_attested: str | None = "not registered with the control plane"

    def check(self, now: int) -> Rejection | None:
        if self.not_attested is not None:
            return reject(
                RejectCode.INSTANCE_NOT_ATTESTED,
                f"instance {self.instance_id} is not attested: {self.not_attested}",
                limit="attested release",
                attempted=self.not_attested,
            )
        if now >= self.lease_deadline:
            late = (now - self.lease_deadline) // _NS_PER_MS
            return reject(
                RejectCode.CONTROL_PLANE_LOST,
                f"instance {self.instance_id} lease expired {late:,} ms ago; it may not route "
                "until it renews with the control plane",
                limit="fresh lease",
                attempted=f"expired {late} ms",
            )
        if self.epoch != self.fleet_epoch:
            return reject(
                RejectCode.STALE_EPOCH,
                f"instance {self.instance_id} runs epoch {self.epoch}, fleet is at epoch "
                f"{self.fleet_epoch}",
                limit=self.fleet_epoch,
                attempted=self.epoch,
            )
        return None
