"""Idempotency keys (invariant 7): the same key always yields the same decision; the same
key with another payload yields IDEMPOTENCY_CONFLICT and changes nothing.

Keys are scoped to the authenticated principal, so one caller cannot poison another's.

One entry is kept per key for the whole day (every FIX order's ClOrdID is one), so its
shape is the store's memory: a dict of keys per principal (no (principal, key) tuple per
entry) holding one untracked `_First` with the first request's payload and its decision's
fields, not the request itself: its strings are the ones the order keeps anyway, and its
limit price is one shared Decimal per distinct price, so the transport's request and
Decimal are freed once journaled. The decision is built again on a replay.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import msgspec

from interlock.domain.commands import OrderRequest
from interlock.domain.decision import Decision
from interlock.domain.enums import OrderType, Side, TimeInForce, TradingSession
from interlock.domain.reject import RejectCode, Rejection, reject


class _First(msgspec.Struct, frozen=True, gc=False):
    """The payload first seen under a key (`OrderRequest`'s fields but the key) and the
    decision on it. Untracked by the collector: it refers only to untracked structs,
    strings, numbers and enum members, so it can make no cycle."""

    client_order_id: str
    account: str
    strategy: str
    symbol: str
    side: Side
    quantity: int
    order_type: OrderType
    limit_price: Decimal | None
    time_in_force: TimeInForce
    session: TradingSession | None
    parent_id: str | None
    order_id: int | None
    rejection: Rejection | None
    seq: int

    def same_payload(self, other: OrderRequest) -> bool:
        """`OrderRequest.same_payload` (the one definition of "the same order"), against
        the request kept here; built only when a key comes again."""
        return other.same_payload(self.request(other.idempotency_key))

    def request(self, key: str | None) -> OrderRequest:
        return OrderRequest(
            self.client_order_id, self.account, self.strategy, self.symbol, self.side,
            self.quantity, self.order_type, self.limit_price, self.time_in_force,
            self.session, self.parent_id, key,
        )  # fmt: skip


class IdempotencyStore:
    __slots__ = ("_by_principal", "_count", "_prices")

    def __init__(self) -> None:
        self._by_principal: dict[str, dict[str, _First]] = {}
        self._prices: dict[Decimal, Decimal] = {}  # one Decimal per distinct price
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def entries(self) -> Iterator[tuple[tuple[str, str], OrderRequest, Decision]]:
        """Every ((principal, key), first request, its decision), for checks and tests."""
        for principal, keys in self._by_principal.items():
            for key, first in keys.items():
                decision = Decision(first.order_id, first.rejection, first.seq)
                yield (principal, key), first.request(key), decision

    def lookup(self, principal: str, request: OrderRequest) -> Decision | Rejection | None:
        """The first decision again, a conflict, or None for a key not seen before."""
        key = request.idempotency_key
        if key is None:
            return None
        keys = self._by_principal.get(principal)
        first = None if keys is None else keys.get(key)
        if first is None:
            return None
        if first.same_payload(request):
            return Decision(first.order_id, first.rejection, first.seq, replayed=True)
        return reject(
            RejectCode.IDEMPOTENCY_CONFLICT,
            f"idempotency key {key!r} was first used for order {first.client_order_id} "
            f"({first.side} {first.quantity:,} {first.symbol}); this request differs",
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
        if key in keys:
            return
        price = request.limit_price
        if price.__class__ is Decimal and price.is_finite():  # (a NaN is not a dict key)
            price = self._prices.setdefault(price, price)
        keys[key] = _First(
            request.client_order_id, request.account, request.strategy, request.symbol,
            request.side, request.quantity, request.order_type, price,
            request.time_in_force, request.session, request.parent_id,
            decision.order_id, decision.rejection, decision.seq,
        )  # fmt: skip
        self._count += 1
