"""The venue's drop-copy side for tests: a QuickFIX acceptor that sends a copy of every
ExecutionReport the `FakeExchange` sends on any order-entry session (its `drop_copy`),
and lets a test play the rogue server: `inject` sends an execution for an order no
gateway ever sent, `resend` sends a copy again with PossDup, as after a reconnect.
"""

from __future__ import annotations

import itertools
import threading
from pathlib import Path

import quickfix as fix

from interlock.fixengine.bind import AcceptorBinding
from interlock.fixengine.engine import SessionKey, new_message, open_engine, write_settings
from interlock.sim.fix_client import Fields, SessionApp

DROP_COPY_COMP_ID = "VENUE-DC"


class FakeDropCopy(SessionApp):
    def __init__(
        self,
        work_dir: Path,
        port: int,
        comp_id: str = DROP_COPY_COMP_ID,
        client: str = "INTERLOCK-DC",
        *,
        file_log: bool = False,
    ) -> None:
        super().__init__()
        self.client = client
        self.sent: list[Fields] = []  # every report sent, in order
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        work_dir.mkdir(parents=True, exist_ok=True)
        binding = AcceptorBinding("127.0.0.1", port)
        path = write_settings(
            work_dir / "drop-copy-acceptor.cfg",
            acceptor=True,
            port=binding.scratch_port,
            sessions=[SessionKey(comp_id, client)],
            work_dir=work_dir,
            file_log=file_log,
            reset_on_logon=False,
        )
        self._engine = open_engine(self, path, acceptor=True, file_log=file_log, binding=binding)

    def start(self) -> FakeDropCopy:
        self._engine.start()
        return self

    def stop(self, force: bool = False) -> None:
        self._engine.stop(force)

    def drop(self) -> None:
        """Log the client out and refuse it until `readmit`: the drop copy is down."""
        fix.Session.lookupSession(self._session_id()).logout("drop copy dropped")

    def readmit(self) -> None:
        fix.Session.lookupSession(self._session_id()).logon()

    def _session_id(self) -> fix.SessionID:
        for session_id in self._engine.socket.getSessions():
            return session_id
        raise KeyError(self.client)

    def copy(self, fields: Fields, *, poss_dup: bool = False) -> None:
        """Send an ExecutionReport with these body fields (35 is ignored)."""
        msg = new_message("8")
        if poss_dup:
            msg.getHeader().setField(43, "Y")
            msg.getHeader().setField(122, "20260101-00:00:00")  # OrigSendingTime, with 43
        for tag, value in fields.items():
            if tag != 35:
                msg.setField(tag, value)
        with self._lock:
            self.sent.append(dict(fields))
        fix.Session.sendToTarget(msg, self._session_id())

    def resend(self, index: int = -1) -> None:
        """Send the `index`th report again as a PossDup copy."""
        with self._lock:
            fields = dict(self.sent[index])
        self.copy(fields, poss_dup=True)

    def inject(self, cl_ord_id: str, account: str, symbol: str, qty: int, price: str = "100",
               side: str = "1") -> Fields:  # fmt: skip
        """A fill of an order no gateway sent: what a rogue server's trading looks like."""
        n = next(self._ids)
        fields: Fields = {
            37: f"ROGUE{n}", 17: f"R{n}", 11: cl_ord_id, 150: "F", 39: "2", 55: symbol,
            54: side, 38: str(qty), 32: str(qty), 31: price, 14: str(qty), 151: "0",
            6: price,
        }  # fmt: skip
        if account:
            fields[1] = account
        self.copy(fields)
        return fields


__all__ = ["DROP_COPY_COMP_ID", "FakeDropCopy"]
