"""QuickFIX plumbing shared by the acceptor, the venue adapter and the test kit.

QuickFIX reads its sessions from a settings file; writing it from typed arguments here
keeps every caller's ports, stores and logs in one place (tests put them in tmp_path).
The data dictionary is off on purpose: Interlock decodes the few messages it accepts
itself and answers what it cannot decode with a BusinessMessageReject naming the field,
instead of QuickFIX's session-level Reject, which a desk's order handler may not read.

Acceptors: QuickFIX binds INADDR_ANY and has no bind-address setting, so an acceptor's
settings name only a scratch port and `AcceptorBinding` (bind.py) swaps our own socket,
bound to the configured host:port, under QuickFIX's before the first accept.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import quickfix as fix

from interlock.fixengine import first_message
from interlock.fixengine.bind import AcceptorBinding, FixBindError
from interlock.fixengine.dictionary import write_dictionary

_log = logging.getLogger(__name__)

BEGIN_STRING = "FIX.4.4"


@dataclass(frozen=True, slots=True)
class FixTls:
    """TLS for a QuickFIX socket (its SSL acceptor or initiator): our certificate and key
    (PEM; an initiator's are its client certificate, optional), and the CA that must have
    signed the peer's. An acceptor with `ca` requires a client certificate; an initiator
    with `ca` verifies the acceptor's. Serve's acceptor does not use QuickFIX's SSL (its
    handshakes block the acceptor: api/fix/tls_front.py); desks and tests initiate with it."""

    cert: str | None = None
    key: str | None = None
    ca: str | None = None


TLS_PROTOCOLS = "-all +TLSv1_2 +TLSv1_3"
"""QuickFIX's SSLProtocol: TLS 1.2 and 1.3 only, the floor REST and admin have too."""


@dataclass(frozen=True, slots=True)
class SessionKey:
    """One FIX session as seen from our side: our CompID and the counterparty's."""

    sender: str
    target: str
    qualifier: str = ""  # tells apart two sessions of one process with the same CompIDs


def write_settings(
    path: Path,
    *,
    acceptor: bool,
    port: int,
    sessions: Iterable[SessionKey],
    work_dir: Path,
    heartbeat_s: int = 30,
    file_log: bool = True,
    allowed_remote: tuple[str, ...] = (),
    host: str = "127.0.0.1",
    reconnect_s: int = 1,
    reset_on_logon: bool = True,
    store_dir: Path | None = None,
    market_data: bool = False,
    tls: FixTls | None = None,
) -> Path:
    """Write a QuickFIX settings file for `sessions`; return its path.

    Initiators connect to `host`:`port`. Acceptors: `port` is the scratch port of an
    `AcceptorBinding` (QuickFIX would bind it on 0.0.0.0; the binding replaces it).
    `allowed_remote` becomes AllowedRemoteAddresses, defence in depth for engines that
    know the key: official QuickFIX 1.16 does, the `quickfix-py` 0.0.3 build does not
    (the key is not in its binary; a peer outside the list still logs on), so the bind is
    what keeps the listener private. `reset_on_logon=False` keeps sequence numbers across
    restarts (a venue session: the file store in `store_dir`, default `work_dir/store`).
    `market_data`: the session carries repeating groups (V, W, X), which QuickFIX refuses
    as repeated tags without a data dictionary naming them: dictionary.py writes one.
    `tls`: the SSL keys of QuickFIX's SSL sockets (`Engine(tls=True)` opens those)."""
    role = "acceptor" if acceptor else "initiator"
    lines = [
        "[DEFAULT]",
        f"ConnectionType={role}",
        f"FileStorePath={store_dir or work_dir / 'store'}",
        f"FileLogPath={work_dir / 'log'}" if file_log else "",
        "StartTime=00:00:00",
        "EndTime=00:00:00",
        "UseDataDictionary=N",
        "ValidateUserDefinedFields=N",
        f"HeartBtInt={heartbeat_s}",
        f"ReconnectInterval={reconnect_s}",
        f"ResetOnLogon={'Y' if reset_on_logon else 'N'}",
        "SocketNodelay=Y",
    ]
    if market_data:
        dd = write_dictionary(work_dir / "venue-dictionary.xml")
        lines[lines.index("UseDataDictionary=N")] = "UseDataDictionary=Y"
        lines += [f"DataDictionary={dd}", "ValidateFieldsOutOfOrder=N",
                  "ValidateFieldsHaveValues=N", "AllowUnknownMsgFields=Y"]  # fmt: skip
    if acceptor:
        lines.append(f"SocketAcceptPort={port}")
        if allowed_remote:
            lines.append(f"AllowedRemoteAddresses={','.join(allowed_remote)}")
    else:
        lines += [f"SocketConnectHost={host}", f"SocketConnectPort={port}"]
    if tls is not None:
        lines += _tls_lines(tls, acceptor)
    for key in sessions:
        lines += ["[SESSION]", f"BeginString={BEGIN_STRING}"]
        lines += [f"SenderCompID={key.sender}", f"TargetCompID={key.target}"]
        if key.qualifier:
            lines.append(f"SessionQualifier={key.qualifier}")
    path.write_text("\n".join(x for x in lines if x) + "\n")
    return path


def _tls_lines(tls: FixTls, acceptor: bool) -> list[str]:
    side = "Server" if acceptor else "Client"
    lines = [f"SSLProtocol={TLS_PROTOCOLS}"]
    if tls.cert is not None and tls.key is not None:
        lines += [f"{side}CertificateFile={tls.cert}", f"{side}CertificateKeyFile={tls.key}"]
    if tls.ca is not None:
        lines += [f"CertificationAuthoritiesFile={tls.ca}", "CertificateVerifyLevel=1"]
    return lines


class Engine:
    """A QuickFIX socket acceptor or initiator together with what it points into.

    Lifetimes: QuickFIX's C++ engine keeps raw pointers to its settings, store factory and
    log factory, so their Python wrappers are held here as long as the engine.

    Acceptors are polled from a thread of ours instead of QuickFIX's own: QuickFIX 1.16's
    `Acceptor::stop` closes the listening sockets (`SocketAcceptor::onStop`) while the
    acceptor thread, woken by that close, closes and deletes the same `SocketServer`; the
    loser iterates freed memory (a segfault in about one stop in four here with
    `quickfix-py`; the official 1.16.0 source has the same code). Polling from our thread lets
    `stop` log the sessions out, end the poll loop, and only then close the sockets, with
    no second thread touching them. The loop sleeps `POLL_S` between polls when idle and
    only yields while messages flow (`kick()`, from the application, marks activity).
    A guard thread bounds how long one connection's first message may hold a poll
    (first_message.py: QuickFIX reads it blocking, every other session waiting).
    """

    POLL_S = 0.0002
    BUSY_S = 0.005
    FIRST_MESSAGE_S = 0.25  # longest a connection's first message may hold the poll
    GUARD_EVERY_S = 0.05
    LOGON_S = 5.0  # longest a connection may stay open with no word from us (no Logon)
    LOGON_SWEEP_S = 0.5
    STOP_JOIN_S = 5.0  # how long a stop waits for the poll thread to come back

    def __init__(
        self,
        app: fix.Application,
        settings_path: Path,
        *,
        acceptor: bool,
        file_log: bool,
        binding: AcceptorBinding | None = None,
        tls: bool = False,
    ) -> None:
        self.app = app
        self.binding = binding
        self.settings = fix.SessionSettings(str(settings_path))
        self.store = fix.FileStoreFactory(self.settings)
        self.log = fix.FileLogFactory(self.settings) if file_log else None
        if tls:  # the same sockets wrapped in OpenSSL; the settings name the files
            kind = fix.SSLSocketAcceptor if acceptor else fix.SSLSocketInitiator
        else:
            kind = fix.SocketAcceptor if acceptor else fix.SocketInitiator
        if self.log is not None:
            self.socket = kind(app, self.store, self.settings, self.log)
        else:
            self.socket = kind(app, self.store, self.settings)
        self._acceptor = acceptor
        self._busy_until = 0.0
        self._polling = threading.Event()
        self._thread: threading.Thread | None = None
        self._poll_since = 0.0  # when the poll now running began; 0.0: none running
        self._poll_tid = 0
        self._guard_stop = threading.Event()
        self._guard_thread: threading.Thread | None = None

    def start(self) -> None:
        if not self._acceptor:
            self.socket.start()
            return
        try:
            self.socket.poll()  # the first poll configures the sessions and binds the port
        except Exception:
            if self.binding is not None:
                self.binding.close()
            raise
        if self.binding is not None:
            try:
                self.binding.take_over()  # before any poll can accept on 0.0.0.0
            except FixBindError:
                self.socket.stop(True)
                raise
        self._polling.set()
        self._thread = threading.Thread(target=self._poll, name="fix-acceptor", daemon=True)
        self._thread.start()
        self._guard_stop.clear()
        self._guard_thread = threading.Thread(target=self._guard, name="fix-first-message",
                                              daemon=True)  # fmt: skip
        self._guard_thread.start()

    def kick(self) -> None:
        """A message came or went: poll without sleeping for the next `BUSY_S`."""
        self._busy_until = time.monotonic() + self.BUSY_S

    def _poll(self) -> None:
        poll, sleep, clock, polling = self.socket.poll, time.sleep, time.monotonic, self._polling
        idle = self.POLL_S
        self._poll_tid = threading.get_native_id()
        while polling.is_set():
            self._poll_since = clock()
            poll()
            self._poll_since = 0.0
            sleep(0 if clock() < self._busy_until else idle)

    def _guard(self) -> None:
        """A connection still owing its first message may stall a poll only FIRST_MESSAGE_S
        (first_message.py: QuickFIX reads it blocking every session), and one we never
        answered is closed after LOGON_S (it holds its CompID's session meanwhile)."""
        port = self.binding.address[1] if self.binding and self.binding.address else 0
        logons = first_message.LogonDeadline(port, self.LOGON_S) if port else None
        next_sweep = 0.0
        while not self._guard_stop.wait(self.GUARD_EVERY_S):  # a watchdog's period
            since, now = self._poll_since, time.monotonic()
            if since and self._poll_tid:
                first_message.enforce(self._poll_tid, now - since, self.FIRST_MESSAGE_S)
            if logons is not None and now >= next_sweep:
                logons.sweep(now)
                next_sweep = now + self.LOGON_SWEEP_S

    def stop(self, force: bool = False, timeout: float = 2.0) -> None:
        """Initiators: QuickFIX's stop. Acceptors: Logout to every session (unless
        `force`), poll until they are gone or `timeout`, then close with no poller. A
        poller that does not come back (stuck inside a QuickFIX callback) is logged and
        left, never waited for: a stop must not hang the process that asked for it."""
        if not self._acceptor:
            self.socket.stop(force)
            return
        if self._thread is None:
            return
        self._guard_stop.set()
        if self._guard_thread is not None:  # it reads the poll thread's stack: gone first
            self._guard_thread.join(self.GUARD_EVERY_S + 1.0)
            self._guard_thread = None
        if not force:
            for session_id in self.socket.getSessions():
                session = fix.Session.lookupSession(session_id)
                if session is not None and session.isLoggedOn():
                    session.logout("acceptor stopping")
            deadline = time.monotonic() + timeout
            while self.socket.isLoggedOn() and time.monotonic() < deadline:
                time.sleep(0.01)
        self._polling.clear()
        self._thread.join(max(timeout, self.STOP_JOIN_S))
        if self._thread.is_alive():  # closing under a live poller could crash QuickFIX
            _log.error("FIX acceptor: the poll thread did not return within %.1f s "
                       "(stuck in a callback); closing without it", self.STOP_JOIN_S)  # fmt: skip
            self._thread = None
            return
        self._thread = None
        self.socket.stop(True)


def open_engine(
    app: fix.Application,
    settings_path: Path,
    *,
    acceptor: bool,
    file_log: bool = True,
    binding: AcceptorBinding | None = None,
    tls: bool = False,
) -> Engine:
    """Build (not start) a socket acceptor or initiator with a FileStore (and FileLog);
    an acceptor given a `binding` listens on the binding's address once started; `tls`
    opens QuickFIX's SSL sockets (their files are in the settings: `write_settings`)."""
    return Engine(app, settings_path, acceptor=acceptor, file_log=file_log, binding=binding,
                  tls=tls)  # fmt: skip


def session_key(session_id: fix.SessionID) -> SessionKey:
    """Our side of `session_id` as a SessionKey."""
    return SessionKey(
        session_id.getSenderCompID().getValue(), session_id.getTargetCompID().getValue()
    )


def new_message(msg_type: str) -> fix.Message:
    msg = fix.Message()
    msg.getHeader().setField(fix.BeginString(BEGIN_STRING))
    msg.getHeader().setField(fix.MsgType(msg_type))
    return msg


def field(msg: fix.Message, tag: int) -> str | None:
    """The value of body field `tag`, or None when it is absent."""
    return msg.getField(tag) if msg.isSetField(tag) else None


def body_fields(msg: fix.Message) -> dict[int, str]:
    """Every field of `msg` as {tag: value} from one `toString()`: one call into QuickFIX
    instead of two per tag read (decode of a NewOrderSingle: ~40 µs down to a few)."""
    out: dict[int, str] = {}
    for part in msg.toString().split("\x01"):
        tag, _, value = part.partition("=")
        if tag.isdigit():
            out[int(tag)] = value
    return out


def msg_type(msg: fix.Message) -> str:
    return str(msg.getHeader().getField(35))
