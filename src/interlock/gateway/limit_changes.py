"""Limit changes as audited commands: propose, approve, decline; four eyes for a raise.

A risk principal proposes a change (risk/limit_paths.py judges it against the limits in
force). A lowering applies at once; a raise (any item loosened) waits for a *different*
risk principal's approval until it expires (`[limit_changes] pending_ttl_ms`). Approving
re-reads the limits in force: if another change moved an item's value since the proposal,
it is refused LIMIT_CHANGE_STALE rather than applied over it. Each step is a journal
record (domain/limit_events.py), applied here through the state's one `apply`: the
`LimitChangeApplied` record swaps the book's limits between two decisions
(risk/limit_swap.py) and is followed by a `LimitsLoaded` that later decisions cite, and
a restart folds the same records, so the approved limits and the pending proposals come
back as they were. Principals are compared by name: a second key of the same person is
the same pair of eyes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace

from interlock.domain.clock import Clock
from interlock.domain.events import Event, LimitsLoaded
from interlock.domain.limit_events import (
    FleetLimitChange,
    LimitChangeApplied,
    LimitChangeApproved,
    LimitChangeDeclined,
    LimitChangeProposed,
    LimitItem,
)
from interlock.domain.reject import RejectCode, Rejection, reject
from interlock.errors import ConfigError, RecoveryError
from interlock.gateway.auth import Principal, Role
from interlock.risk.book import Book
from interlock.risk.limit_paths import apply_items, plan, stale
from interlock.risk.limit_swap import swap_limits
from interlock.risk.limits import LimitsConfig

PENDING, APPLIED, DECLINED, EXPIRED = "pending", "applied", "declined", "expired"
_PREFIX = "LC-"


def four_eyes_refusal(change_id: str, who: str) -> Rejection:
    return reject(RejectCode.FOUR_EYES_REQUIRED,
                  f"limit change {change_id} was proposed by {who}: a raise needs another "
                  "risk principal's approval", limit="an approver other than the proposer",
                  attempted=who)  # fmt: skip


def stale_refusal(change_id: str, why: str) -> Rejection:
    return reject(RejectCode.LIMIT_CHANGE_STALE,
                  f"limit change {change_id} no longer fits the limits in force: {why}; "
                  "propose it again", limit="the values proposed against",
                  attempted=change_id)  # fmt: skip


def not_found(change_id: str, why: str) -> Rejection:
    return reject(RejectCode.LIMIT_CHANGE_NOT_FOUND, why, limit="a pending limit change",
                  attempted=str(change_id)[:40])  # fmt: skip


@dataclass(frozen=True, slots=True)
class LimitChange:
    """One change as the journal tells it; `status` as of when it was read."""

    change_id: str
    proposer: str
    items: tuple[LimitItem, ...]
    reason: str
    raises: bool
    proposed_ts: int
    expires_ts: int  # 0: a lowering, which never waits
    status: str = PENDING
    approver: str = ""
    closed_by: str = ""  # who declined it
    closed_ts: int = 0
    close_reason: str = ""

    def at(self, now: int) -> LimitChange:
        if self.status == PENDING and now >= self.expires_ts:
            return replace(self, status=EXPIRED)
        return self


class LimitChanges:
    """The four-eyes commands and the state they leave (rebuilt by the journal's fold)."""

    def __init__(
        self,
        book: Book,
        symbols: Collection[str],
        ttl_ms: int,
        *,
        lock: threading.Lock,
        record: Callable[[Event], int],
        clock: Clock,
        swapped: Callable[[LimitsConfig], None],
        refusal: Callable[[], Rejection | None],
        flush: Callable[[], object],
        others: Callable[[], list[str]],
        name: str = "",
    ) -> None:
        """`name`: this instance's id, in the ids of the changes it proposes to a fleet."""
        self._book = book
        self._symbols = symbols
        self._ttl_ns = ttl_ms * 1_000_000
        self._lock = lock
        self._record = record
        self._clock = clock
        self._swapped = swapped
        self._refusal = refusal
        self._flush = flush
        self._others = others
        self._changes: dict[str, LimitChange] = {}
        self._next = 1
        self._name = name
        self.fleet_epoch = 0  # the newest epoch a fleet change was applied at (0: none)
        self.publish: Callable[[FleetLimitChange, LimitsConfig], LimitChange | Rejection] | None
        self.publish = None  # set by gateway/fleet_limits.py: a change to the whole fleet
        self.approve_fleet: Callable[[Principal, str], LimitChange | Rejection] | None = None
        self.withdraw_fleet: Callable[[Principal, str, str], Rejection | None] | None = None

    def handlers(self) -> dict[type, Callable[[int, Event], None]]:
        """The `apply` of each record, for the instance state's one `apply`."""
        return {
            LimitChangeProposed: self._proposed,  # type: ignore[dict-item]
            LimitChangeApproved: self._approved,  # type: ignore[dict-item]
            LimitChangeDeclined: self._declined,  # type: ignore[dict-item]
            LimitChangeApplied: self._applied,  # type: ignore[dict-item]
        }

    # -- views ---------------------------------------------------------------------------

    def changes(self) -> list[LimitChange]:
        """Every change, newest first, with its status now (a raise past its time: expired)."""
        with self._lock:
            now = self._clock()
            return [c.at(now) for c in reversed(self._changes.values())]

    def pending(self) -> list[LimitChange]:
        return [c for c in self.changes() if c.status == PENDING]

    # -- commands --------------------------------------------------------------------------

    def propose(
        self, who: Principal, items: Sequence[tuple[str, object]], reason: str
    ) -> LimitChange | Rejection:
        """Judge and journal a change; a lowering applies now, a raise waits. With other
        live members, a lowering goes to the whole fleet through the control plane."""
        others, publish = self._others(), self.publish  # the gate's cache, before the lock
        with self._lock:
            refused = self._may_not(who, "propose")
            if refused is not None:
                return refused
            judged = plan(self._book.limits, items, self._symbols)
            if isinstance(judged, Rejection):
                return judged
            if others:
                if publish is None:
                    return self._not_in_fleet(others, "a change")
                expires = self._clock() + self._ttl_ns if judged.raises else 0
                fleet = FleetLimitChange(self._fleet_id(), who.name, judged.items, reason,
                                         judged.raises, expires)  # fmt: skip
                new = apply_items(self._book.limits, judged.items, self._symbols)
            else:
                change = self._propose_here(who, judged.items, judged.raises, reason)
        if publish is not None and others:
            return publish(fleet, new)  # outside the lock: every member takes it
        self._flush()
        return change

    def _propose_here(
        self, who: Principal, items: tuple[LimitItem, ...], raises: bool, reason: str
    ) -> LimitChange:
        now = self._clock()
        cid = f"{_PREFIX}{self._next}"
        expires = now + self._ttl_ns if raises else 0
        self._record(LimitChangeProposed(now, cid, who.name, items, reason, raises, expires))
        if not raises:
            self._apply(cid, items, now)
        return self._changes[cid]

    def _fleet_id(self) -> str:
        """A change id no other member's proposals can take: `LC-n@instance`."""
        cid = f"{_PREFIX}{self._next}@{self._name}"
        self._next += 1
        return cid

    def apply_fleet(self, change: FleetLimitChange, epoch: int) -> bool:
        """Take a fleet's change carried by a deploy proposal (released at `epoch`): journal
        it as proposed (a raise not yet approved stays pending), approved, applied. False if
        it cannot be applied (the journal is unavailable, the limits here moved): this member
        then stays on its limits and is fenced."""
        with self._lock:
            if self._refusal() is not None:
                return False
            known = self._changes.get(change.change_id)
            if known is not None and known.status != PENDING:
                return known.status == APPLIED
            fits = not stale(self._book.limits, change.items, self._symbols)
            if fits and change.appliable:
                try:
                    apply_items(self._book.limits, change.items, self._symbols)
                except ConfigError:
                    fits = False
            now = self._clock()
            if known is None:
                self._record(LimitChangeProposed(now, change.change_id, change.proposer,
                                                 change.items, change.reason, change.raises,
                                                 change.expires_ts))  # fmt: skip
            if fits and change.appliable:
                if change.raises:
                    self._record(LimitChangeApproved(now, change.change_id, change.approver))
                self._apply(change.change_id, change.items, now, epoch)
        self._flush()
        return fits and change.appliable

    def change(self, change_id: str) -> LimitChange | None:
        with self._lock:
            return self._changes.get(change_id)

    def approve(self, who: Principal, change_id: str) -> LimitChange | Rejection:
        """Apply a pending raise, if `who` is another risk principal and it still fits."""
        others, fleet = self._others(), self.approve_fleet
        if others and fleet is not None:
            return self._may_not(who, "approve") or fleet(who, change_id)
        with self._lock:
            alone = self._not_in_fleet(others, "an approval") if others else None
            refused = self._may_not(who, "approve") or alone or self._open(change_id)
            if refused is not None:
                return refused
            change = self._changes[change_id]
            if change.proposer == who.name:
                return four_eyes_refusal(change_id, who.name)
            why = stale(self._book.limits, change.items, self._symbols)
            if why:
                return stale_refusal(change_id, why)
            try:
                apply_items(self._book.limits, change.items, self._symbols)
            except ConfigError as e:
                return reject(RejectCode.CONFIG_INVALID,
                              f"limit change {change_id} would make the limits invalid: {e}",
                              limit="valid limits", attempted=change_id)  # fmt: skip
            now = self._clock()
            self._record(LimitChangeApproved(now, change_id, who.name))
            self._apply(change_id, change.items, now)
            change = self._changes[change_id]
        self._flush()
        return change

    def decline(self, who: Principal, change_id: str, reason: str) -> LimitChange | Rejection:
        """Close a pending raise for good (the proposer may withdraw their own); in a fleet,
        first take it out of the plane, so no member can approve it any more."""
        withdraw = self.withdraw_fleet if self._others() else None
        if withdraw is not None:
            refused = self._may_not(who, "decline") or withdraw(who, change_id, reason)
            if refused is not None:
                return refused
        with self._lock:
            refused = self._may_not(who, "decline") or self._open(change_id)
            if refused is not None:
                return refused
            self._record(LimitChangeDeclined(self._clock(), change_id, who.name, reason))
            change = self._changes[change_id]
        self._flush()
        return change

    def _may_not(self, who: Principal, action: str) -> Rejection | None:
        if who.role is not Role.RISK:
            return reject(RejectCode.UNAUTHENTICATED,
                          f"role {who.role.value} may not {action} limit changes: risk only",
                          limit="role risk", attempted=who.role.value)  # fmt: skip
        return self._refusal()  # JOURNAL_UNAVAILABLE: nothing could be made durable

    def _not_in_fleet(self, others: list[str], what: str) -> Rejection:
        """A raise needs four eyes the whole fleet sees, and this build keeps them in one
        member's journal: refused while other members are live (a lowering travels)."""
        return reject(RejectCode.LIMIT_CHANGE_FLEET,
                      f"this instance is one of {len(others) + 1} live members "
                      f"({', '.join(others[:5])} too): {what} of a limit raise here would "
                      "not reach them; change the config and deploy it to the fleet",
                      "the only live member", f"{len(others) + 1} members")  # fmt: skip

    def _open(self, change_id: str) -> Rejection | None:
        change = self._changes.get(change_id) if isinstance(change_id, str) else None
        if change is None:
            why = f"no limit change {str(change_id)[:40]}"
        else:
            change = change.at(self._clock())
            if change.status == PENDING:
                return None
            why = f"limit change {change_id} is {change.status}, not pending"
        return not_found(change_id, why)

    def _apply(
        self, change_id: str, items: tuple[LimitItem, ...], now: int, epoch: int = 0
    ) -> None:
        """Journal the change in force, then the limits document decisions will cite."""
        new = apply_items(self._book.limits, items, self._symbols)
        self._record(LimitChangeApplied(now, change_id, items, new.digest(), epoch))
        self._record(LimitsLoaded(now, new.digest(), new.canonical_json()))

    # -- apply: one per record, live and in the fold ------------------------------------------

    def _proposed(self, seq: int, ev: LimitChangeProposed) -> None:
        self._changes[ev.change_id] = LimitChange(
            ev.change_id, ev.proposer, ev.items, ev.reason, ev.raises, ev.ts, ev.expires_ts
        )
        number, at, name = ev.change_id.removeprefix(_PREFIX).partition("@")
        if number.isdigit() and (not at or name == self._name):
            self._next = max(self._next, int(number) + 1)

    def _approved(self, seq: int, ev: LimitChangeApproved) -> None:
        change = self._changes.get(ev.change_id)
        if change is not None:
            self._changes[ev.change_id] = replace(change, approver=ev.approver)

    def _declined(self, seq: int, ev: LimitChangeDeclined) -> None:
        change = self._changes.get(ev.change_id)
        if change is not None:
            self._changes[ev.change_id] = replace(
                change, status=DECLINED, closed_by=ev.who, closed_ts=ev.ts, close_reason=ev.reason
            )

    def _applied(self, seq: int, ev: LimitChangeApplied) -> None:
        try:
            new = apply_items(self._book.limits, ev.items, self._symbols)
        except ConfigError as e:
            raise RecoveryError(
                f"journal seq {seq}: limit change {ev.change_id} does not fit the configured "
                f"limits: {e}"
            ) from None
        swap_limits(self._book, new)
        self._swapped(new)
        self.fleet_epoch = max(self.fleet_epoch, ev.epoch)
        change = self._changes.get(ev.change_id)
        if change is not None:
            self._changes[ev.change_id] = replace(change, status=APPLIED, closed_ts=ev.ts)
