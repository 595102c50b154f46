"""The FIX fuzz driver: fuzz cases into a running acceptor, every one accounted for.

Lock-step per session, several sessions in parallel: a case goes out together with a
TestRequest (1). Its outcome is read from what comes back before that TestRequest's
Heartbeat (0), and for an order's asynchronous answer (acks leave once the journal is
durable) up to `answer_wait_s` after it:

- answered: an ExecutionReport (8), OrderCancelReject (9), BusinessMessageReject (j),
  OrderMassCancelReport (r) or session Reject (3) naming the case (its ClOrdID, or its
  MsgSeqNum in RefSeqNum 45), a ResendRequest (2) for the gap a seq fault opened, or a
  Logout (5);
- dropped: the engine discarded it unread (QuickFIX drops a garbled frame and does not
  count its MsgSeqNum): the ResendRequest the TestRequest then causes proves both that
  the case was dropped and that the session is alive (it is gap-filled, then the
  Heartbeat comes);
- silent: taken (no gap) and never answered — a failure;
- wedged: no Heartbeat at all within `wedge_s`, TestRequests resent — a failure;
- disconnected: QuickFIX closes the connection without a Logout when MsgSeqNum (34) or
  SendingTime (52) is missing or garbled (`UNUSABLE_HEADER`): the engine's session-level
  answer, counted apart; anything else closed without a word is a failure.

After a Logout, a close or a wedge the session logs on again (seq 1) and goes on.
`logon_flood` and `SlowLoris` attack the logon path; `probe_order` is the good desk that
must still log on and get an order acked during and after them.
"""

from __future__ import annotations

import contextlib
import random
import socket
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from interlock.domain.reject import RejectCode
from interlock.sim.fix_fuzz import FuzzCase, Fuzzer, render
from interlock.sim.fix_wire import RawSession, Reply, SessionGone, frame, header

_ANSWERS = frozenset({"8", "9", "j", "r", "3"})
UNUSABLE_HEADER = ("header.34", "header.52", "header_missing.34", "header_missing.52")
"""Families QuickFIX answers by closing the connection, no Logout: a MsgSeqNum (34) or
SendingTime (52) missing or not of its type. The session logs on again; counted apart."""


@dataclass
class Tally:
    """What the fuzz sent and what came back, shared by the session threads."""

    sent: Counter[str] = field(default_factory=Counter)  # by family class
    answered: Counter[str] = field(default_factory=Counter)  # by reply MsgType
    dropped: Counter[str] = field(default_factory=Counter)  # by family
    disconnected: Counter[str] = field(default_factory=Counter)  # by family (see above)
    silent: list[str] = field(default_factory=list)  # "session#index family": failures
    internal_errors: list[str] = field(default_factory=list)  # INTERNAL_ERROR answers
    wedged: int = 0
    relogons: int = 0
    unsolicited: int = 0  # reports of earlier orders (fills, cancels) seen meanwhile
    gap_fills: int = 0
    seconds: dict[str, float] = field(default_factory=dict)  # time spent, by family class
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def total(self) -> int:
        return sum(self.sent.values())

    def as_dict(self) -> dict[str, object]:
        return {"sent": self.total, "sent_by_class": dict(sorted(self.sent.items())),
                "answered_by_kind": dict(sorted(self.answered.items())),
                "answered": sum(self.answered.values()),
                "dropped_by_engine": sum(self.dropped.values()),
                "dropped_by_family": dict(sorted(self.dropped.items())),
                "disconnected_by_engine": sum(self.disconnected.values()),
                "disconnected_by_family": dict(sorted(self.disconnected.items())),
                "silent": len(self.silent), "silent_examples": self.silent[:20],
                "internal_errors": len(self.internal_errors),
                "internal_error_examples": self.internal_errors[:10],
                "seconds_by_class": {k: round(v, 2) for k, v in sorted(self.seconds.items())},
                "wedged": self.wedged, "relogons": self.relogons,
                "unsolicited_reports": self.unsolicited, "gap_fills": self.gap_fills}  # fmt: skip


@dataclass
class Outcome:
    kind: str = ""  # reply MsgType that answered, "dropped", "silent", "wedged", "closed"
    relogon: bool = False


def _answers(case: FuzzCase, seq: int, reply: Reply) -> bool:
    if reply.msg_type in ("3", "j") and reply.get(45) == str(seq):
        return True
    return reply.msg_type in ("8", "9", "r") and reply.get(11) in case.keys


class FuzzSession:
    """One desk session of the fuzz: logs on, runs cases, logs on again when dropped."""

    def __init__(self, session: RawSession, tally: Tally, *, answer_wait_s: float = 3.0,
                 retry_s: float = 0.2, wedge_s: float = 15.0) -> None:  # fmt: skip
        self.s, self.tally = session, tally
        self.answer_wait_s, self.retry_s, self.wedge_s = answer_wait_s, retry_s, wedge_s

    def logon(self, timeout_s: float = 15.0) -> None:
        """Log on; a connection the acceptor closes at once (the last one of this CompID
        not yet let go) is retried until `timeout_s`. A refusal (5) is an error."""
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                reply = self.s.logon()
            except (SessionGone, TimeoutError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)  # the retry's pace: the old connection is being dropped
                continue
            if reply.msg_type != "A":
                raise AssertionError(f"{self.s.sender!r} logon refused: {reply.fields}")
            return

    def run(self, fuzzer: Fuzzer, count: int, name: str) -> None:
        self.logon()
        for _ in range(count):
            case = next(fuzzer)
            t0 = time.monotonic()
            outcome = self.run_case(case)
            cls = case.family.split(".")[0]
            self.tally.seconds[cls] = self.tally.seconds.get(cls, 0.0) + time.monotonic() - t0
            self._record(case, outcome, name)
            if outcome.relogon:
                with self.tally._lock:
                    self.tally.relogons += 1
                self.logon()
        self.tally.gap_fills += self.s.gap_fills

    def _record(self, case: FuzzCase, outcome: Outcome, name: str) -> None:
        with self.tally._lock:
            self.tally.sent[case.family.split(".")[0]] += 1
            if outcome.kind == "dropped":
                self.tally.dropped[case.family] += 1
            elif outcome.kind == "closed" and case.family.startswith(UNUSABLE_HEADER):
                self.tally.disconnected[case.family] += 1
            elif outcome.kind in ("silent", "closed"):
                self.tally.silent.append(f"{name}#{case.index} {case.family} {outcome.kind}")
            elif outcome.kind == "wedged":
                self.tally.wedged += 1
                self.tally.silent.append(f"{name}#{case.index} {case.family} wedged")
            else:
                self.tally.answered[outcome.kind] += 1

    def _seq_for(self, case: FuzzCase) -> int:
        s = self.s
        if case.seq_fault == "gap":
            seq = s.next_seq + 1 + case.index % 5
            s.next_seq = seq + 1
            return seq
        if case.seq_fault == "low" and s.next_seq > 1:
            return max(1, s.next_seq - 1 - case.index % 3)
        return s.take_seq()

    def run_case(self, case: FuzzCase) -> Outcome:
        s = self.s
        expected = s.next_seq
        seq = self._seq_for(case)
        data = render(case, s.sender, s.target, seq)
        try:
            s.send_raw(data)
            return self._await(case, seq, expected)
        except SessionGone:
            return Outcome("closed", relogon=True)

    def _await(self, case: FuzzCase, seq: int, expected: int) -> Outcome:
        s = self.s
        tests: dict[bytes, int] = {}
        test_id, tseq = s.test_request()
        tests[test_id] = tseq
        out = Outcome()
        start = time.monotonic()
        retry_at, beat_at = start + self.retry_s, 0.0
        while True:
            now = time.monotonic()
            if beat_at and (out.kind or now > beat_at + self.answer_wait_s):
                out.kind = out.kind or "silent"
                return out
            if not beat_at and now > start + self.wedge_s:
                return Outcome("wedged", relogon=True)
            if not beat_at and now > retry_at:
                test_id, tseq = s.test_request()
                tests[test_id] = tseq
                retry_at = now + self.retry_s
            try:
                replies = s.pump(min(0.05, max(retry_at - now, 0.001)))
            except SessionGone:
                return Outcome(out.kind or "closed", relogon=True)
            s.inbox.clear()
            for r in replies:
                self._note_error(r, case)
                if r.msg_type == "0" and (r.fields.get(112) or b"") in tests:
                    beat_at = beat_at or time.monotonic()
                elif r.msg_type == "1":
                    s.send_pairs(b"0", [(b"112", r.fields.get(112) or b"")])
                elif r.msg_type == "2":
                    begin = int(r.get(7) or 0)
                    if not out.kind and case.seq_fault == "gap" and begin < seq:
                        out.kind = "2"
                    elif not out.kind and begin <= seq and begin >= expected:
                        out.kind = "dropped"
                    new = max(tests.values())
                    new = new if new > begin else s.next_seq
                    if new > begin:
                        s.gap_fill(begin, new)
                elif r.msg_type == "5":
                    out.kind = out.kind or "5"
                    out.relogon = True
                    return out
                elif r.msg_type in _ANSWERS and not out.kind and _answers(case, seq, r):
                    out.kind = r.msg_type
                elif r.msg_type in _ANSWERS:
                    with self.tally._lock:
                        self.tally.unsolicited += 1

    def _note_error(self, r: Reply, case: FuzzCase) -> None:
        text = r.get(58) or ""
        if RejectCode.INTERNAL_ERROR.value in text:
            with self.tally._lock:
                self.tally.internal_errors.append(f"#{case.index} {case.family}: {text[:120]}")


# -- the logon path ----------------------------------------------------------------------


def logon_attempt(host: str, port: int, sender: bytes, username: bytes, password: bytes,
                  timeout_s: float = 10.0) -> str:  # fmt: skip
    """One connect + Logon: "A" (then logged out), "5" (refused), "closed" or "timeout"."""
    s = RawSession(host, port, sender, password, username=username)
    try:
        reply = s.logon(timeout_s)
        if reply.msg_type == "A":
            s.send_pairs(b"5", [])
            with contextlib.suppress(SessionGone):
                s.wait_for(lambda r: r.msg_type == "5", timeout_s, "logout")
        return reply.msg_type
    except SessionGone:
        return "closed"
    except TimeoutError:
        return "timeout"
    except OSError:
        return "connect_error"
    finally:
        s.close()


def logon_flood(host: str, port: int, kinds: dict[str, tuple[bytes, bytes, bytes]],
                attempts: int, parallel: int, seed: int) -> dict[str, Counter[str]]:  # fmt: skip
    """`attempts` logons, `parallel` at a time, each of a kind drawn from `kinds`
    (name -> sender, username, password); outcomes counted by kind."""
    rng = random.Random(seed)
    plan = [rng.choice(sorted(kinds)) for _ in range(attempts)]
    out: dict[str, Counter[str]] = {k: Counter() for k in kinds}
    with ThreadPoolExecutor(parallel) as pool:
        results = pool.map(lambda k: (k, logon_attempt(host, port, *kinds[k])), plan)
        for kind, result in results:
            out[kind][result] += 1
    return out


class SlowLoris:
    """`n` connections that send a Logon one byte at a time, never its last, and hold."""

    def __init__(self, host: str, port: int, n: int, sender: bytes, byte_every_s: float = 0.05):
        logon = [*header(b"A", sender, b"INTERLOCK", 1), (b"98", b"0"), (b"108", b"30")]
        self._data = frame(logon)[:-1]
        self._socks = [socket.create_connection((host, port), timeout=5) for _ in range(n)]
        self._sent = [0] * n
        self._stop = threading.Event()
        self._every = byte_every_s
        self.closed_by_peer = 0
        self._thread = threading.Thread(target=self._drip, name="slow-loris", daemon=True)
        self._thread.start()

    def _drip(self) -> None:
        while not self._stop.wait(self._every):  # the attack's own pace, not a wait
            for i, sock in enumerate(self._socks):
                if sock.fileno() < 0 or self._sent[i] >= len(self._data):
                    continue
                try:
                    sock.sendall(self._data[self._sent[i] : self._sent[i] + 1])
                    self._sent[i] += 1
                except OSError:
                    sock.close()
                    self.closed_by_peer += 1

    @property
    def bytes_sent(self) -> int:
        return sum(self._sent)

    def close(self) -> None:
        """Stop dripping; count the connections the acceptor closed; close the rest."""
        self._stop.set()
        self._thread.join(5)
        for sock in self._socks:
            if sock.fileno() >= 0:
                try:
                    if sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b"":
                        self.closed_by_peer += 1
                except BlockingIOError:
                    pass  # still open: nothing to read
                except OSError:
                    self.closed_by_peer += 1
            sock.close()


def probe_order(host: str, port: int, sender: bytes, username: bytes, password: bytes,
                cl_ord_id: str, timeout_s: float = 10.0, qty: int = 100) -> str:  # fmt: skip
    """A good desk logs on and sends a plain limit order: its ExecType (150) when acked
    (0 new, or 1/2/F filled), else why not ("logon:5", "reject:<text>", "timeout")."""
    s = RawSession(host, port, sender, password, username=username)
    try:
        reply = s.logon(timeout_s)
        if reply.msg_type != "A":
            return f"logon:{reply.msg_type}:{reply.get(58)}"
        body = [(b"11", cl_ord_id.encode()), (b"55", b"AAPL"), (b"54", b"1"), (b"38", b"%d" % qty),
                (b"40", b"2"), (b"44", b"100.00"), (b"59", b"0")]  # fmt: skip
        s.send_pairs(b"D", body)
        got = s.wait_for(lambda r: r.msg_type in ("8", "j", "3") and
                         r.get(11) in (cl_ord_id, None), timeout_s, "ack")  # fmt: skip
        if got.msg_type == "8" and got.get(150) in ("0", "1", "2", "F"):
            s.send_pairs(b"5", [])
            return "ack:" + (got.get(150) or "")
        return f"reject:{got.msg_type}:{got.get(58)}"
    except (SessionGone, TimeoutError, OSError) as e:
        return f"failed:{e}"
    finally:
        s.close()


__all__ = ["FuzzSession", "Outcome", "SlowLoris", "Tally", "logon_attempt", "logon_flood",
           "probe_order"]  # fmt: skip
