"""The answer to one submit: accepted with an order id, or rejected with a code."""

from __future__ import annotations

from interlock.domain.reject import RejectCode, Rejection


class Decision:
    """Returned at once by `Gateway.submit`; durable when `seq <= journal.durable_seq`.

    `replayed` marks an answer given again for a known idempotency key.
    """

    __slots__ = ("order_id", "rejection", "replayed", "seq")

    def __init__(
        self, order_id: int | None, rejection: Rejection | None, seq: int, replayed: bool = False
    ) -> None:
        self.order_id = order_id
        self.rejection = rejection
        self.seq = seq
        self.replayed = replayed

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

    def __repr__(self) -> str:
        return f"Decision({self.message!r}, seq={self.seq}{', replayed' if self.replayed else ''})"
