"""The answer to one submit: accepted with an order id, or rejected with a code."""

from __future__ import annotations

import msgspec

from interlock.domain.reject import RejectCode, Rejection


class Decision(msgspec.Struct, frozen=True, gc=False):
    """Returned at once by `Gateway.submit`; durable when `seq <= journal.durable_seq`.

    `replayed` marks an answer given again for a known idempotency key.
    """

    order_id: int | None
    rejection: Rejection | None
    seq: int
    replayed: bool = False

    @property
    def accepted(self) -> bool:
        return self.rejection is None

    @property
    def code(self) -> RejectCode | None:
        return None if self.rejection is None else self.rejection.code

    @property
    def message(self) -> str:
        if self.rejection is None:
            return f"ACCEPTED: order {self.order_id}"
        return self.rejection.message

    def replay(self) -> Decision:
        return Decision(self.order_id, self.rejection, self.seq, replayed=True)
