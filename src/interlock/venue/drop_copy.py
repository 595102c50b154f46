"""The venue's drop copy: a read-only QuickFIX initiator (FIX 4.4) that hears every
ExecutionReport the venue sends for the firm, over a session of its own.

It never sends an application message: `toApp` refuses every one (DoNotSend), so nothing
on this session can ever be an order. Each ExecutionReport (35=8) is decoded
(drop_copy_report.py) and passed to the attached `on_report` (the gateway's matcher,
gateway/drop_copy.py); each Logon and Logout to `on_status(up)`, so the instance can say
it is blind. Sequence numbers persist in a file store (no ResetOnLogon), so a reconnect
asks the venue to resend what was missed; resent copies carry PossDup and the matcher
counts each report once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

import quickfix as fix

from interlock.errors import VenueError
from interlock.fixengine.engine import (
    Engine,
    SessionKey,
    body_fields,
    msg_type,
    open_engine,
    write_settings,
)
from interlock.venue.drop_copy_report import DropCopyReport, decode_report

_log = logging.getLogger(__name__)
ReportSink = Callable[[DropCopyReport], None]
StatusSink = Callable[[bool], None]
TickSink = Callable[[], object]
TICK_S = 0.25
"""How often a started session calls its `on_tick` (the matcher's overdue confirmations)."""


class DropCopySession(fix.Application):  # type: ignore[misc]
    def __init__(
        self,
        *,
        port: int,
        work_dir: Path,
        comp_id: str,
        venue_comp_id: str,
        host: str = "127.0.0.1",
        heartbeat_s: int = 30,
        reconnect_s: int = 5,
        store_dir: Path | None = None,
        file_log: bool = True,
        confirm_within_ms: int | None = None,
    ) -> None:
        super().__init__()
        self.name = f"{comp_id}->{venue_comp_id}"
        self.confirm_within_ms = confirm_within_ms  # read by the matcher instance.py builds
        self._on_report: ReportSink | None = None
        self._on_status: StatusSink | None = None
        self._on_tick: TickSink | None = None
        self._ticking = threading.Event()
        self._ticker: threading.Thread | None = None
        self._logged_on = threading.Event()
        work_dir.mkdir(parents=True, exist_ok=True)
        path = write_settings(
            work_dir / "drop-copy.cfg",
            acceptor=False,
            port=port,
            sessions=[SessionKey(comp_id, venue_comp_id)],
            work_dir=work_dir,
            file_log=file_log,
            host=host,
            heartbeat_s=heartbeat_s,
            reconnect_s=reconnect_s,
            reset_on_logon=False,
            store_dir=store_dir,
        )
        self._engine: Engine | None = open_engine(self, path, acceptor=False, file_log=file_log)
        self._started = False

    def attach(
        self, on_report: ReportSink, on_status: StatusSink, on_tick: TickSink | None = None
    ) -> None:
        """Reports, Logon/Logout, and (every TICK_S while started) a tick to these."""
        self._on_report = on_report
        self._on_status = on_status
        self._on_tick = on_tick

    @property
    def logged_on(self) -> bool:
        return self._logged_on.is_set()

    def start(self, timeout: float = 5.0) -> bool:
        """Connect; True once the venue logged on within `timeout`. False is not fatal:
        QuickFIX keeps reconnecting, and until it does the instance is blind (it says so)."""
        if self._engine is None:
            raise VenueError("drop-copy session is closed")
        if not self._started:
            self._engine.start()
            self._started = True
            if self._on_tick is not None:
                self._ticking.set()
                self._ticker = threading.Thread(target=self._tick, name="drop-copy-tick",
                                                daemon=True)  # fmt: skip
                self._ticker.start()
        up = self._logged_on.wait(timeout)
        if not up and self._on_status is not None:
            self._on_status(False)  # blind from the start: said at once, not at a Logout
        return up

    def stop(self) -> None:
        self._ticking.clear()
        if self._ticker is not None:
            self._ticker.join(5)
            self._ticker = None
        if self._engine is not None and self._started:
            self._engine.stop()
            self._started = False

    def _tick(self) -> None:
        tick = self._on_tick
        assert tick is not None
        while self._ticking.is_set():
            try:
                tick()
            except Exception:  # one failed look must not end the next ones
                _log.exception("drop-copy tick failed")
            time.sleep(TICK_S)

    def close(self) -> None:
        self.stop()
        self._engine = None

    # -- QuickFIX callbacks ------------------------------------------------------------

    def onCreate(self, session_id: fix.SessionID) -> None:
        pass

    def onLogon(self, session_id: fix.SessionID) -> None:
        self._logged_on.set()
        _log.warning("drop-copy session %s logged on", session_id.toString())
        if self._on_status is not None:
            self._on_status(True)

    def onLogout(self, session_id: fix.SessionID) -> None:
        was_up = self._logged_on.is_set()
        self._logged_on.clear()
        if was_up and self._on_status is not None:
            self._on_status(False)

    def toAdmin(self, message: fix.Message, session_id: fix.SessionID) -> None:
        pass

    def fromAdmin(self, message: fix.Message, session_id: fix.SessionID) -> None:
        pass

    def toApp(self, message: fix.Message, session_id: fix.SessionID) -> None:
        raise fix.DoNotSend()  # read-only: this session never sends an application message

    def fromApp(self, message: fix.Message, session_id: fix.SessionID) -> None:
        if msg_type(message) != "8":
            return
        sink = self._on_report
        if sink is None:
            _log.error("drop-copy report with no matcher attached")
            return
        try:
            sink(decode_report(body_fields(message)))
        except Exception:  # a fault in the matcher must not take the session down
            _log.exception("drop-copy report could not be matched")
