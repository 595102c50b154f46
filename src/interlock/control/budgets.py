"""Fleet-wide budgets: one limit split into leased slices, so the instances together can
never use more than the limit (DESIGN.md invariant 1 across instances).

A budget here is an account's position limit in one symbol, made fleet-wide. Each instance
holds a slice `s_i` and keeps its own worst case inside it: worst long `pos + open buys`
and worst short `open sells - pos` both at most `s_i`. The plane grants slices so that
`sum(s_i) <= limit`, hence the fleet's worst long and worst short stay within the limit
whatever each instance does with its slice.

Two halves: `SliceLedger` is the plane's record (pure; the backend holds the lock), and
`FleetBudgets` is one instance's view, asked on the order path only when an order needs
more than the slice already held, so the common case costs no control-plane call. Slices
belong to the instance, not to its lease: a member that loses its lease keeps its slices,
because its positions (and orders still working at the venue) outlive the lease. It takes
them back when it rejoins; an operator frees them (`release_slices`) once its book is flat.
So the fleet's worst case never passes the limit, whichever instances die.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from interlock.control.ports import BudgetPort
from interlock.domain.reject import RejectCode, Rejection, reject
from interlock.errors import ControlPlaneError


@dataclass(slots=True)
class _Budget:
    limit: int
    slices: dict[str, int]


class SliceLedger:
    """The plane's record of every budget's slices. Not thread-safe: callers lock."""

    def __init__(self) -> None:
        self._budgets: dict[str, _Budget] = {}

    def lease(self, budget: str, instance_id: str, limit: int, want: int) -> int:
        if want < 0 or limit < 0:
            raise ControlPlaneError(f"budget {budget}: negative slice {want} or limit {limit}")
        b = self._budgets.get(budget)
        current = b.slices.get(instance_id, 0) if b is not None else 0
        if want <= current:  # giving back is always allowed, whatever limit the caller uses
            grant = want
        elif b is None:
            b = self._budgets[budget] = _Budget(limit, {})
            grant = min(want, limit)
        elif b.limit != limit:
            raise ControlPlaneError(
                f"budget {budget}: limit {limit:,} disagrees with the {b.limit:,} its holders "
                f"use ({', '.join(sorted(b.slices))}); the instances' configs differ"
            )
        else:
            others = sum(b.slices.values()) - current
            grant = max(current, min(want, limit - others))
        if b is not None:
            self._set(budget, b, instance_id, grant)
        return grant

    def _set(self, budget: str, b: _Budget, instance_id: str, grant: int) -> None:
        if grant:
            b.slices[instance_id] = grant
        else:
            b.slices.pop(instance_id, None)
            if not b.slices:  # nobody holds any: a later holder may bring another limit
                del self._budgets[budget]

    def drop(self, instance_id: str) -> None:
        """Return every slice `instance_id` holds (its lease is gone)."""
        for name, b in list(self._budgets.items()):
            if instance_id in b.slices:
                self._set(name, b, instance_id, 0)

    def slices(self, budget: str) -> dict[str, int]:
        b = self._budgets.get(budget)
        return dict(b.slices) if b is not None else {}

    def limit(self, budget: str) -> int | None:
        """The limit `budget`'s holders use (None: nobody holds any of it)."""
        b = self._budgets.get(budget)
        return b.limit if b is not None else None

    def load(self, budget: str, limit: int, slices: dict[str, int]) -> None:
        """Take `budget` as a backend stored it (the etcd plane keeps one key per budget)."""
        held = {i: n for i, n in slices.items() if n > 0}
        if held:
            self._budgets[budget] = _Budget(limit, held)
        else:
            self._budgets.pop(budget, None)


@dataclass(frozen=True, slots=True)
class BudgetSpec:
    """One fleet-wide position limit: `limit` shares for `account` in `symbol`, asked for
    `chunk` shares at a time."""

    account: str
    symbol: str
    limit: int
    chunk: int

    @property
    def key(self) -> str:
        return f"position/{self.account}/{self.symbol}"


class FleetBudgets:
    """One instance's slices. Used under the gateway's lock (one writer)."""

    __slots__ = ("_plane", "granted", "instance_id", "specs")

    def __init__(self, plane: BudgetPort, instance_id: str, specs: Iterable[BudgetSpec]) -> None:
        self._plane = plane
        self.instance_id = instance_id
        self.specs = {(s.account, s.symbol): s for s in specs}
        self.granted = dict.fromkeys(self.specs, 0)

    def admit(self, spec: BudgetSpec, need: int) -> Rejection | None:
        """None if a slice of at least `need` shares is held (asking the plane for more,
        rounded up to the chunk, only when the one held is too small); else POSITION_LIMIT."""
        held = self.granted[(spec.account, spec.symbol)]
        if need <= held:
            return None
        want = max(need, min(spec.limit, -(-need // spec.chunk) * spec.chunk))
        try:
            held = self._lease(spec, want)
        except ControlPlaneError as exc:
            return reject(
                RejectCode.POSITION_LIMIT,
                f"fleet-wide position limit {spec.limit:,} shares (account {spec.account}, "
                f"{spec.symbol}) cannot be checked: {exc}",
                limit=f"fleet slice {held}",
                attempted=need,
            )
        if need <= held:
            return None
        others = sum(self._plane.slices(spec.key).values()) - held
        return reject(
            RejectCode.POSITION_LIMIT,
            f"worst-case position {need:,} shares would pass this instance's slice {held:,} "
            f"of the fleet-wide limit {spec.limit:,} shares (account {spec.account}, "
            f"{spec.symbol}); other instances hold {others:,}",
            limit=held,
            attempted=need,
        )

    def trim(self, usage: Callable[[BudgetSpec], int]) -> None:
        """Give back what the slices hold beyond current use, rounded up to the chunk, so
        other instances may have it. Run off the order path (at heartbeat)."""
        for key, held in self.granted.items():
            if not held:
                continue
            spec = self.specs[key]
            used = max(0, usage(spec))
            target = min(held, max(used, min(spec.limit, -(-used // spec.chunk) * spec.chunk)))
            if target < held:
                try:
                    self._lease(spec, target)
                except ControlPlaneError:
                    return  # lease gone: the plane already took the slices back

    def lost(self) -> None:
        """The lease is gone, and with it every slice."""
        for key in self.granted:
            self.granted[key] = 0

    def _lease(self, spec: BudgetSpec, want: int) -> int:
        grant = self._plane.lease_slice(spec.key, self.instance_id, spec.limit, want)
        self.granted[(spec.account, spec.symbol)] = grant
        return grant
