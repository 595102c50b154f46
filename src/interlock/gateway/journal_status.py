"""The gateway's side of a journal fault: refuse new orders, halt, keep reducing risk.

A journal that cannot make records durable (disk full, I/O error, the database gone) keeps
what it is given in memory, in order, and retries (journal/group_commit.py). The gateway
hears each change of its status here (`changed`, from the journal's writer thread):

- unavailable: `refusal` becomes a JOURNAL_UNAVAILABLE rejection at once. The order path's
  first stage returns it (one attribute read), so a new order is answered with it and not
  journaled: nothing could make it durable, and a backlog of refusals would only crowd
  out the records that matter. The fault is logged at error level and the instance halts
  itself through the kill switch (an instance-scope halt written to the control plane, so
  the fleet and its operators see it and every member confirms; `FleetMembership.halt`
  applies it here alone if the plane is unreachable). The halt runs on a thread of its
  own: the writer thread must go on retrying, and a halt waits for confirmations.
- Cancels, halts and fills go on meanwhile: applied in memory, their records queued, and
  cancels sent to the venue at once (`Gateway._cancel_now_or_after_durable`).
- available again: the backlog has committed, in order; `refusal` is cleared, but the halt
  stays: the instance trades again only once a person resumes it through the normal
  resume path. While the journal is down a resume is refused (`Gateway.resume_refusal`),
  and this instance's own halt lifted in the plane from elsewhere is kept here (`holds`).
- the backlog past `journal.max_backlog` records (`check_backlog`): the instance stops for
  good: `refusal` stays whatever the journal does next, every open order is cancelled
  (at the venue once working), and it says so at error level. A restart, once the journal
  is back, is the way on (it folds the journal and reconciles as any restart does).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime

from interlock.control.fleet_halt import HaltReport
from interlock.domain.enums import HaltScope
from interlock.domain.reject import RejectCode, Rejection, reject
from interlock.gateway.membership import FleetMembership
from interlock.journal.base import Journal, JournalStatus

_log = logging.getLogger("interlock.gateway.gateway")
_CODE = RejectCode.JOURNAL_UNAVAILABLE.value
JOURNAL_MONITOR = "journal-monitor"
"""Who the halt for a journal fault is written by."""


def iso_ms(ts_ns: int) -> str:
    """`ts_ns` as ISO 8601 in UTC, to the millisecond: how operators read an instant."""
    return datetime.fromtimestamp(ts_ns / 1e9, UTC).isoformat(timespec="milliseconds")


class JournalWatch:
    """What the instance does about its journal's availability (see the module doc)."""

    def __init__(
        self,
        instance_id: str,
        journal: Journal,
        max_backlog: int,
        *,
        fleet: FleetMembership,
        cancel_all: Callable[[str], int],
    ) -> None:
        """`cancel_all(reason)` cancels every open order (it takes the gateway lock)."""
        self.instance_id = instance_id
        self._journal = journal
        self.max_backlog = max_backlog
        self._fleet = fleet
        self._cancel_all = cancel_all
        self.refusal: Rejection | None = None  # what new orders get; None: journal available
        self.since_ns = 0  # when the journal became unavailable
        self.stopped = ""  # why the instance stopped for good ("": it has not)
        self.halt_report: HaltReport | None = None  # the halt this wrote, once confirmed
        self.halted = threading.Event()  # set once that halt is written and applied

    def changed(self, status: JournalStatus) -> None:
        """The journal's status changed (writer thread): refuse and halt, or stop refusing."""
        if not status.available:
            if self.refusal is not None:
                return  # down already (or stopped for good)
            self.since_ns = status.since_ns
            self.refusal = reject(
                RejectCode.JOURNAL_UNAVAILABLE,
                f"journal unavailable since {iso_ms(status.since_ns)}: no new order can be "
                f"made durable; instance {self.instance_id} is halted until a person "
                f"resumes it ({status.failure})",
                limit="an available journal",
                attempted="a new order",
            )
            _log.error("instance %s: journal unavailable, refusing new orders and halting: %s",
                       self.instance_id, status.failure)  # fmt: skip
            threading.Thread(
                target=self._halt,
                args=(status.failure,),
                name=f"{self.instance_id}-journal-halt",
                daemon=True,
            ).start()
        elif not self.stopped:
            self.refusal = None
            self.since_ns = 0
            _log.warning("instance %s: journal available again (durable seq %d); it stays "
                         "halted until a person resumes it", self.instance_id,
                         self._journal.durable_seq)  # fmt: skip

    def _halt(self, failure: str) -> None:
        try:
            self.halt_report = self._fleet.halt(
                HaltScope.INSTANCE, self.instance_id, f"{_CODE}: {failure}",
                JOURNAL_MONITOR,
            )  # fmt: skip
        except Exception:  # the halt must never die silently: say so
            _log.exception("instance %s: halting for the journal fault failed", self.instance_id)
        finally:
            self.halted.set()

    def holds(self, scope: HaltScope, target: str) -> bool:
        """True if a lift of (scope, target) must not apply here now: this instance's own
        halt while its journal is unavailable."""
        return (
            self.refusal is not None and scope is HaltScope.INSTANCE and target == self.instance_id
        )

    def check_backlog(self) -> None:
        """Under the gateway lock, while unavailable: past `max_backlog` queued records,
        stop for good (the cancels go from a thread of their own, outside the lock)."""
        backlog = self._journal.last_seq - self._journal.durable_seq
        if backlog <= self.max_backlog or self.stopped:
            return
        self.stopped = (
            f"{backlog:,} records waited for the journal, over journal.max_backlog "
            f"{self.max_backlog:,}: instance {self.instance_id} stopped trading for good"
        )
        self.refusal = reject(
            RejectCode.JOURNAL_UNAVAILABLE,
            f"{self.stopped}; every open order is cancelled; restart it once the journal is back",
            limit=self.max_backlog,
            attempted=backlog,
        )
        _log.error("instance %s: %s; cancelling every open order", self.instance_id,
                   self.stopped)  # fmt: skip
        threading.Thread(
            target=self._cancel_all,
            args=("journal backlog over its bound",),
            name=f"{self.instance_id}-journal-stop",
            daemon=True,
        ).start()
