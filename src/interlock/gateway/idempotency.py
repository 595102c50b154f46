"""Idempotency keys (invariant 7): the same key always yields the same decision; the same
key with another payload yields IDEMPOTENCY_CONFLICT and changes nothing.

Keys are scoped to the authenticated principal, so one caller cannot poison another's.

One entry is kept per key for the whole day, so its shape is the store's memory: a dict of
keys per principal (no (principal, key) tuple per entry) holding one untracked `_First`
(the first request and its decision's fields; the `Decision` is built again on a replay).
"""

from __future__ import annotations

from collections.abc import Iterator

import msgspec

from interlock.domain.commands import OrderRequest
from interlock.domain.decision import Decision
from interlock.domain.reject import RejectCode, Rejection, reject


class _First(msgspec.Struct, frozen=True, gc=False):
    """The first request under a key and the decision on it. Untracked by the collector:
    it refers only to untracked structs, strings and integers, so it can make no cycle."""

    request: OrderRequest
    order_id: int | None
    rejection: Rejection | None
    seq: int


class IdempotencyStore:
    __slots__ = ("_by_principal", "_count")

    def __init__(self) -> None:
        self._by_principal: dict[str, dict[str, _First]] = {}
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def entries(self) -> Iterator[tuple[tuple[str, str], OrderRequest, Decision]]:
        """Every ((principal, key), first request, its decision), for checks and tests."""
        for principal, keys in self._by_principal.items():
            for key, first in keys.items():
                decision = Decision(first.order_id, first.rejection, first.seq)
                yield (principal, key), first.request, decision

    def lookup(self, principal: str, request: OrderRequest) -> Decision | Rejection | None:
        """The first decision again, a conflict, or None for a key not seen before."""
        key = request.idempotency_key
        if key is None:
            return None
        keys = self._by_principal.get(principal)
        seen = None if keys is None else keys.get(key)
        if seen is None:
            return None
        first = seen.request
        if first.same_payload(request):
            return Decision(seen.order_id, seen.rejection, seen.seq, replayed=True)
        return reject(
            RejectCode.IDEMPOTENCY_CONFLICT,
            f"idempotency key {key!r} was first used for order {first.client_order_id} "
            f"({first.side.value} {first.quantity:,} {first.symbol}); this request differs",
            limit=f"payload of {first.client_order_id}",
            attempted=request.client_order_id,
        )

    def bind(self, principal: str, request: OrderRequest, decision: Decision) -> None:
        """Remember the first decision under the request's key (a later one never wins)."""
        key = request.idempotency_key
        if key is None:
            return
        keys = self._by_principal.get(principal)
        if keys is None:
            keys = self._by_principal[principal] = {}
        if key not in keys:
            keys[key] = _First(request, decision.order_id, decision.rejection, decision.seq)
            self._count += 1
