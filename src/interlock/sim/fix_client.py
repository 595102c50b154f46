"""A desk's FIX client for tests and benchmarks, and the QuickFIX application both test
counterparties (this client and `sim.fix.FakeExchange`) are built on.

`FixClient` is a QuickFIX initiator that logs on with Username/Password and collects
every application message it receives, so a test can wait (always with a timeout) for
the report it expects.
"""

from __future__ import annotations

import queue
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path

import quickfix as fix

from interlock.fixengine.engine import (
    FixTls,
    SessionKey,
    body_fields,
    msg_type,
    new_message,
    open_engine,
    write_settings,
)

Fields = dict[int, str]
_HEADER = frozenset((8, 9, 10, 34, 49, 52, 56))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fields_of(message: fix.Message) -> Fields:
    """Every body field plus MsgType (35), as a dict."""
    out = {k: v for k, v in body_fields(message).items() if k not in _HEADER}
    out[35] = msg_type(message)
    return out


class SessionApp(fix.Application):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__()
        self.session: fix.SessionID | None = None
        self.logged_on = threading.Event()
        self.logged_out = threading.Event()

    def onCreate(self, session_id: fix.SessionID) -> None:
        self.session = session_id

    def onLogon(self, session_id: fix.SessionID) -> None:
        self.logged_out.clear()
        self.logged_on.set()

    def onLogout(self, session_id: fix.SessionID) -> None:
        self.logged_on.clear()
        self.logged_out.set()

    def toAdmin(self, message: fix.Message, session_id: fix.SessionID) -> None:
        pass

    def fromAdmin(self, message: fix.Message, session_id: fix.SessionID) -> None:
        pass

    def toApp(self, message: fix.Message, session_id: fix.SessionID) -> None:
        pass

    def fromApp(self, message: fix.Message, session_id: fix.SessionID) -> None:
        pass

    def send(self, message: fix.Message) -> None:
        assert self.session is not None
        fix.Session.sendToTarget(message, self.session)


class FixClient(SessionApp):
    """A desk: logs on as `comp_id` to `target` and queues the messages it receives."""

    def __init__(
        self,
        work_dir: Path,
        port: int,
        comp_id: str,
        username: str,
        password: str,
        target: str = "INTERLOCK",
        file_log: bool = True,
        qualifier: str = "",
        host: str = "127.0.0.1",
        tls: FixTls | None = None,
    ) -> None:
        """`qualifier`: QuickFIX keeps one registry of sessions per process; a second
        client with the same CompIDs in one process needs its own qualifier. `tls`: connect
        with QuickFIX's SSL initiator (verifying the acceptor against `tls.ca`, presenting
        `tls.cert` if given)."""
        super().__init__()
        self._credentials = (username, password)
        self.inbox: queue.Queue[Fields] = queue.Queue()
        self.on_message: Callable[[Fields], None] | None = None
        self.refused = threading.Event()  # a Logout answered our Logon
        self.refusal = ""  # that Logout's Text (58)
        work_dir.mkdir(parents=True, exist_ok=True)
        path = write_settings(
            work_dir / "client.cfg",
            acceptor=False,
            port=port,
            sessions=[SessionKey(comp_id, target, qualifier)],
            work_dir=work_dir,
            file_log=file_log,
            host=host,
            tls=tls,
        )
        self._engine = open_engine(
            self, path, acceptor=False, file_log=file_log, tls=tls is not None
        )

    def start(self, timeout: float = 5.0) -> bool:
        """Connect; True once logged on, False if refused or not within `timeout`."""
        self._engine.start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self.refused.is_set():
            if self.logged_on.wait(0.01):
                return True
        return self.logged_on.is_set()

    def stop(self, force: bool = False) -> None:
        """Graceful by default: an acceptor stopped after a forced client stop has crashed
        QuickFIX (segfault) in this process; forcing saves about 1 s."""
        self._engine.stop(force)

    def toAdmin(self, message: fix.Message, session_id: fix.SessionID) -> None:
        if msg_type(message) == "A":
            message.setField(553, self._credentials[0])
            message.setField(554, self._credentials[1])

    def fromAdmin(self, message: fix.Message, session_id: fix.SessionID) -> None:
        if msg_type(message) == "5" and not self.logged_on.is_set():
            self.refusal = body_fields(message).get(58, "")
            self.refused.set()

    def fromApp(self, message: fix.Message, session_id: fix.SessionID) -> None:
        got = fields_of(message)
        if self.on_message is not None:
            self.on_message(got)
        else:
            self.inbox.put(got)

    def new_order(
        self,
        cl_ord_id: str,
        symbol: str | None = "AAPL",
        side: str = "1",
        qty: int = 100,
        price: str | None = "100.00",
        extra: dict[int, str] | None = None,
    ) -> None:
        msg = new_message("D")
        for tag, value in ((11, cl_ord_id), (55, symbol), (54, side), (38, str(qty))):
            if value is not None:  # None: leave the field out
                msg.setField(tag, value)
        msg.setField(40, "2" if price is not None else "1")
        if price is not None:
            msg.setField(44, price)
        for tag, value in (extra or {}).items():
            msg.setField(tag, value)
        self.send(msg)

    def cancel(self, cl_ord_id: str, orig: str) -> None:
        msg = new_message("F")
        msg.setField(11, cl_ord_id)
        msg.setField(41, orig)
        self.send(msg)

    def replace(
        self, cl_ord_id: str, orig: str, qty: int, price: str, symbol: str = "AAPL", side: str = "1"
    ) -> None:
        msg = new_message("G")
        for tag, value in (
            (11, cl_ord_id),
            (41, orig),
            (55, symbol),
            (54, side),
            (38, str(qty)),
            (40, "2"),
            (44, price),
        ):
            msg.setField(tag, value)
        self.send(msg)

    def expect(self, pred: Callable[[Fields], bool], timeout: float = 5.0) -> Fields:
        """The next received message matching `pred`; AssertionError after `timeout`."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                got = self.inbox.get(timeout=left)
            except queue.Empty:
                break
            if pred(got):
                return got
        raise AssertionError(f"no matching message within {timeout} s")


__all__ = ["Fields", "FixClient", "SessionApp", "fields_of", "free_port"]
