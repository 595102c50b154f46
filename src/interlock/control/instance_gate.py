"""The instance gate: may this instance route at all? Checked on every order, from a cache.

An instance routes only if it is registered, its attestation equals the release, the flag
registry accepts its flag manifest, its epoch is the fleet's, a quorum of live members
attest the same build and flags as it does and the released config (and are accepted
too), and its lease is fresh.
All but the last are folded into one cached `open` flag that the control plane's watch
callbacks recompute; the lease is a deadline compared with `now`.
So the order path reads two attributes and makes no control-plane call, and a lease past
its deadline closes the gate by itself: a partitioned instance stops within its TTL.

Epoch fencing: a commit names its members; an instance adopts the new epoch only if it is
one of them and attests the new release. Everyone else (a straggler on the old build, an
instance left out of the deploy) keeps its old epoch and is refused with STALE_EPOCH until
it restarts and rejoins on the release.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping

from interlock.control.attestation import mismatch, short
from interlock.control.plane import Attestation, Member, Release
from interlock.domain.reject import RejectCode, Rejection, reject

_NS_PER_MS = 1_000_000
_NOT_ATTESTED = RejectCode.INSTANCE_NOT_ATTESTED
NOT_REGISTERED = "not registered with the control plane"


def quorum_needed(expected: int, configured: int) -> int:
    """Members that must attest: `configured`, or a majority of `expected` when it is 0."""
    return configured if configured > 0 else expected // 2 + 1


class InstanceGate:
    __slots__ = (
        "_lock",
        "attestation",
        "epoch",
        "flags_version",
        "fleet_epoch",
        "held",
        "instance_id",
        "lease_deadline",
        "lost",
        "members",
        "open",
        "quorum",
        "refusal",
        "refused",
        "registered",
        "release",
    )

    def __init__(self, attestation: Attestation, quorum: int = 0) -> None:
        self._lock = threading.Lock()
        self.attestation = attestation
        self.instance_id = attestation.instance_id
        self.quorum = quorum  # 0: a majority of the expected members
        self.lease_deadline = 0  # ns; 0 = never registered
        self.lost = False  # the plane announced this instance gone (left or expired)
        self.epoch = 0  # the release epoch this instance is admitted to
        self.fleet_epoch = 0  # the release epoch the control plane says is current
        self.release = Release("", "", 0)
        self.members: dict[str, Attestation] = {}  # live members, by id
        self.refused: dict[str, str] = {}  # live members whose flag manifest is refused: why
        self.flags_version = -1  # the flag registry version `refused` was last set from
        self.registered = False
        self.refusal: Rejection | None = None
        self.held: Rejection | None = None  # the instance's own hold (reconciling: `hold`)
        self.open = False  # registered, attested, current epoch, quorum, not lost
        self._recompute()

    # -- writers: join, heartbeat and control-plane callbacks ---------------------------

    def joined(
        self, deadline: int, release: Release, members: Iterable[Member], flags_version: int = -1
    ) -> None:
        """Registered: `members` (read after the flag registry was at `flags_version`) carry
        the plane's verdict on each manifest."""
        with self._lock:
            self.flags_version = max(self.flags_version, flags_version)
            self.lease_deadline = deadline
            self.lost = False
            self.registered = True
            self.release = release
            self.epoch = self.fleet_epoch = release.epoch
            for m in members:
                self._put(m)
            self._recompute()

    def renewed(self, deadline: int) -> None:
        self.lease_deadline = deadline

    def member_joined(self, member: Member) -> None:
        with self._lock:
            self._put(member)
            self._recompute()

    def member_lost(self, instance_id: str) -> None:
        with self._lock:
            self.members.pop(instance_id, None)
            self.refused.pop(instance_id, None)
            if instance_id == self.instance_id and self.registered:
                self.lost = True
            self._recompute()

    def flags_checked(self, refused: Mapping[str, str], version: int) -> None:
        """The flag registry changed (to `version`) and judged every live member again:
        `refused` names each one it refuses now, with why. A verdict older than one already
        taken (watch events of two changes may cross) is ignored."""
        with self._lock:
            if version <= self.flags_version:
                return
            self.flags_version = version
            self.refused = dict(refused)
            self._recompute()

    def _put(self, member: Member) -> None:
        self.members[member.instance_id] = member.attestation
        if member.flag_refusal:
            self.refused[member.instance_id] = member.flag_refusal
        else:
            self.refused.pop(member.instance_id, None)

    def release_changed(self, release: Release) -> None:
        with self._lock:
            self.release = release
            self.fleet_epoch = release.epoch
            if self.instance_id in release.members and mismatch(release, self.attestation) is None:
                self.epoch = release.epoch
            self._recompute()

    def reattested(self, attestation: Attestation, deadline: int) -> None:
        """This instance registered `attestation` anew (an applied fleet limit change: the
        same build and flags on another config), under a lease until `deadline`."""
        with self._lock:
            self.attestation = attestation
            self.lease_deadline = deadline
            self._recompute()

    def hold(self, refusal: Rejection) -> None:
        """Close the gate with `refusal` until `unhold`, whatever the control plane says:
        the instance's own reason not to trade (it is reconciling with its venue)."""
        with self._lock:
            self.held = refusal
            self._recompute()

    def unhold(self) -> None:
        with self._lock:
            self.held = None
            self._recompute()

    # -- readers --------------------------------------------------------------------------

    def quorum_state(self) -> tuple[int, int, int]:
        """(accepted members attesting our build and flags and the released config, members
        expected, needed)."""
        ours = (self.attestation.build_digest, self.attestation.flag_digest)
        config = self.release.config_digest
        refused = self.refused
        agree = sum(
            1
            for i, a in list(self.members.items())
            if (a.build_digest, a.flag_digest) == ours
            and config in ("", a.config_digest)
            and i not in refused
        )
        expected = len(self.release.members) or len(self.members)
        return agree, expected, quorum_needed(expected, self.quorum)

    def check(self, now: int) -> Rejection | None:
        """The full verdict (the order path calls this only when the fast test fails)."""
        refusal = self.refusal
        if refusal is not None and refusal.code is _NOT_ATTESTED:
            return refusal
        if self.lost or now >= self.lease_deadline:
            if now < self.lease_deadline:
                why, attempted = "gave up its lease", "lease given up"
            else:
                late = (now - self.lease_deadline) // _NS_PER_MS
                why, attempted = f"lease expired {late:,} ms ago", f"expired {late} ms"
            return reject(
                RejectCode.CONTROL_PLANE_LOST,
                f"instance {self.instance_id} {why}; it may not route until it renews with "
                "the control plane",
                limit="fresh lease",
                attempted=attempted,
            )
        return refusal if refusal is not None else self.held

    def state(self, now: int) -> str:
        """'routing', or the code it refuses orders with: for status tables."""
        refusal = self.check(now)
        return "routing" if refusal is None else refusal.code.value

    # -- the cached verdict ---------------------------------------------------------------

    def _recompute(self) -> None:
        refusal = self._refusal()
        self.refusal = refusal
        self.open = refusal is None and not self.lost and self.held is None

    def _refusal(self) -> Rejection | None:
        if not self.registered:
            why: str | None = NOT_REGISTERED
        else:
            reasons = (mismatch(self.release, self.attestation), self.refused.get(self.instance_id))
            why = "; ".join(r for r in reasons if r) or None
        if why is not None:
            return reject(
                _NOT_ATTESTED,
                f"instance {self.instance_id} is not attested: {why}",
                limit="attested release",
                attempted=why,
            )
        if self.epoch != self.fleet_epoch:
            return reject(
                RejectCode.STALE_EPOCH,
                f"instance {self.instance_id} runs epoch {self.epoch}, fleet is at epoch "
                f"{self.fleet_epoch}",
                limit=self.fleet_epoch,
                attempted=self.epoch,
            )
        agree, expected, need = self.quorum_state()
        if agree < need:
            a = self.attestation
            return reject(
                RejectCode.FLEET_NO_QUORUM,
                f"{agree} live member(s) attest this instance's build {short(a.build_digest)} "
                f"and flags {short(a.flag_digest)}; quorum is {need} of {expected} expected",
                limit=need,
                attempted=agree,
            )
        return None
