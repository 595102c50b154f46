"""Idempotency keys (invariant 7): the same key always yields the same decision; the same
key with another payload yields IDEMPOTENCY_CONFLICT and changes nothing.

Keys are scoped to the authenticated principal, so one caller cannot poison another's.
"""

from __future__ import annotations

from interlock.domain.commands import OrderRequest
from interlock.domain.decision import Decision
from interlock.domain.reject import RejectCode, Rejection, reject


class IdempotencyStore:
    __slots__ = ("_decisions",)

    def __init__(self) -> None:
        self._decisions: dict[tuple[str, str], tuple[OrderRequest, Decision]] = {}

    def __len__(self) -> int:
        return len(self._decisions)

    def lookup(self, principal: str, request: OrderRequest) -> Decision | Rejection | None:
        """The first decision again, a conflict, or None for a key not seen before."""
        key = request.idempotency_key
        if key is None:
            return None
        seen = self._decisions.get((principal, key))
        if seen is None:
            return None
        first, decision = seen
        if first.same_payload(request):
            return decision.replay()
        return reject(
            RejectCode.IDEMPOTENCY_CONFLICT,
            f"idempotency key {key!r} was first used for order {first.client_order_id} "
            f"({first.side.value} {first.quantity:,} {first.symbol}); this request differs",
            limit=f"payload of {first.client_order_id}",
            attempted=request.client_order_id,
        )

    def bind(self, principal: str, request: OrderRequest, decision: Decision) -> None:
        key = request.idempotency_key
        if key is not None:
            self._decisions.setdefault((principal, key), (request, decision))
