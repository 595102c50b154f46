"""The kill switch as an instance sees it: halts by scope, checked on every order.

The view is a cache of the control plane's halt records, refreshed by its watch. With no
halt in force the check is one attribute read.
"""

from __future__ import annotations

from interlock.control.plane import HaltRecord
from interlock.domain.enums import HaltScope
from interlock.domain.order import Order
from interlock.domain.reject import RejectCode, Rejection, reject


class HaltView:
    __slots__ = ("_by_scope", "any", "instance_id")

    def __init__(self, instance_id: str) -> None:
        self.instance_id = instance_id
        self._by_scope: dict[HaltScope, dict[str, HaltRecord]] = {s: {} for s in HaltScope}
        self.any = False

    def put(self, halt: HaltRecord) -> None:
        self._by_scope[halt.scope][halt.target] = halt
        self.any = True

    def remove(self, scope: HaltScope, target: str) -> HaltRecord | None:
        removed = self._by_scope[scope].pop(target, None)
        self.any = any(self._by_scope.values())
        return removed

    def get(self, scope: HaltScope, target: str) -> HaltRecord | None:
        return self._by_scope[scope].get(target)

    def records(self) -> list[HaltRecord]:
        return [h for by_target in self._by_scope.values() for h in by_target.values()]

    def covering(self, account: str, strategy: str, symbol: str) -> HaltRecord | None:
        """The halt that covers an order with these attributes on this instance, if any."""
        if not self.any:
            return None
        s = self._by_scope
        return (
            s[HaltScope.GLOBAL].get("")
            or s[HaltScope.INSTANCE].get(self.instance_id)
            or s[HaltScope.ACCOUNT].get(account)
            or s[HaltScope.STRATEGY].get(strategy)
            or s[HaltScope.SYMBOL].get(symbol)
        )

    def covers(self, halt: HaltRecord, order: Order) -> bool:
        scope, target = halt.scope, halt.target
        if scope is HaltScope.GLOBAL:
            return True
        if scope is HaltScope.INSTANCE:
            return target == self.instance_id
        if scope is HaltScope.ACCOUNT:
            return order.account == target
        if scope is HaltScope.STRATEGY:
            return order.strategy == target
        return order.symbol == target

    def check(self, order: Order) -> Rejection | None:
        halt = self.covering(order.account, order.strategy, order.symbol)
        if halt is None:
            return None
        where = (
            "all trading"
            if halt.scope is HaltScope.GLOBAL
            else (f"{halt.scope.value} {halt.target}")
        )
        return reject(
            RejectCode.HALTED,
            f"{where} halted by {halt.who}: {halt.reason}",
            limit=f"halt {halt.scope.value}:{halt.target}",
            attempted=f"{order.account}/{order.strategy}/{order.symbol}",
        )
