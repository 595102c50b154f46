"""The drop-copy breaks an instance has journaled, as its state holds them (state.py
applies each `DropCopyBreak` here, live and on a restart's fold): every break in order,
the keys already judged (so a venue's resend after a restart is no second break), and a
count by kind, so /health and /metrics read O(1) however long a rogue flood went on."""

from __future__ import annotations

from interlock.domain.events import DropCopyBreak

KINDS = ("foreign", "unreleased", "mismatch", "overfill", "unconfirmed")


class DropCopyLedger:
    __slots__ = ("breaks", "by_kind", "keys")

    def __init__(self) -> None:
        self.breaks: list[DropCopyBreak] = []
        self.keys: set[str] = set()
        self.by_kind: dict[str, int] = dict.fromkeys(KINDS, 0)

    def apply(self, ev: DropCopyBreak) -> None:
        self.breaks.append(ev)
        self.keys.add(ev.exec_id)
        self.by_kind[ev.kind] = self.by_kind.get(ev.kind, 0) + 1
