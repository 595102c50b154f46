"""FIX 4.4 on a raw TCP socket: frames built and read byte by byte, no FIX engine.

A fuzzer must be able to send what no engine would (a wrong CheckSum, a BodyLength that
lies, a field with no `=`), so the desk side of the fuzz (sim/fix_fuzz_run.py) speaks FIX
itself: `frame` builds a message from (tag, value) pairs, `Reader` cuts the acceptor's
replies out of the stream, and `RawSession` logs on with Username (553) / Password (554)
as `sim/fix_client.py` does, keeps its own MsgSeqNum, and proves the session alive with a
TestRequest (1) answered by its Heartbeat (0), filling any gap the acceptor asks about
(ResendRequest 2) with a SequenceReset-GapFill (4). Every read has a deadline.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

SOH = b"\x01"
BEGIN = b"FIX.4.4"
Pair = tuple[bytes, bytes]


def now_stamp() -> bytes:
    """SendingTime (52) as FIX writes it: UTC, milliseconds."""
    return datetime.now(UTC).strftime("%Y%m%d-%H:%M:%S.%f")[:-3].encode()


def checksum(data: bytes) -> bytes:
    return b"%03d" % (sum(data) % 256)


def frame(pairs: Iterable[Pair], begin: bytes = BEGIN) -> bytes:
    """8=begin|9=len|pairs...|10=sum| with the right BodyLength and CheckSum."""
    body = b"".join(t + b"=" + v + SOH for t, v in pairs)
    head = b"8=" + begin + SOH + b"9=" + str(len(body)).encode() + SOH
    return head + body + b"10=" + checksum(head + body) + SOH


def header(msg_type: bytes, sender: bytes, target: bytes, seq: int) -> list[Pair]:
    return [(b"35", msg_type), (b"49", sender), (b"56", target), (b"34", str(seq).encode()),
            (b"52", now_stamp())]  # fmt: skip


@dataclass(slots=True)
class Reply:
    """One message from the acceptor: its MsgType and fields (last value of a tag wins)."""

    msg_type: str
    fields: dict[int, bytes]

    def get(self, tag: int) -> str | None:
        raw = self.fields.get(tag)
        return None if raw is None else raw.decode("utf-8", "replace")


class Reader:
    """Cuts whole messages out of a byte stream, as the acceptor's replies are well framed."""

    def __init__(self) -> None:
        self._buf = b""

    def feed(self, data: bytes) -> list[Reply]:
        self._buf += data
        out: list[Reply] = []
        while True:
            start = self._buf.find(b"8=FIX")
            if start < 0:
                return out
            end = self._buf.find(SOH + b"10=", start)
            if end < 0:
                return out
            stop = self._buf.find(SOH, end + 4)
            if stop < 0:
                return out
            raw, self._buf = self._buf[start : stop + 1], self._buf[stop + 1 :]
            fields: dict[int, bytes] = {}
            for part in raw.split(SOH):
                tag, _, value = part.partition(b"=")
                if tag.isdigit():
                    fields[int(tag)] = value
            out.append(Reply((fields.get(35) or b"").decode("ascii", "replace"), fields))


class SessionGone(Exception):
    """The acceptor closed the connection (after a Logout, or without a word)."""


@dataclass
class RawSession:
    """One desk session over a plain socket; `next_seq` is the MsgSeqNum to send next."""

    host: str
    port: int
    sender: bytes
    password: bytes
    username: bytes = b"desk-7-algo"
    target: bytes = b"INTERLOCK"
    next_seq: int = 1
    inbox: list[Reply] = field(default_factory=list)
    sock: socket.socket | None = None
    _reader: Reader = field(default_factory=Reader)
    _test_ids: int = 0
    gap_fills: int = 0

    # -- connection --------------------------------------------------------------------

    def connect(self, timeout_s: float = 5.0) -> None:
        self.close()
        self.sock = socket.create_connection((self.host, self.port), timeout=timeout_s)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._reader, self.inbox, self.next_seq = Reader(), [], 1

    def close(self) -> None:
        if self.sock is not None:
            try:
                self.sock.close()
            finally:
                self.sock = None

    def logon(self, timeout_s: float = 5.0, password: bytes | None = None) -> Reply:
        """Connect and log on (ResetSeqNumFlag: both sides start at 1); the first admin
        answer: Logon (A) when accepted, Logout (5) when refused. SessionGone if closed."""
        self.connect(timeout_s)
        body = [(b"98", b"0"), (b"108", b"30"), (b"141", b"Y"), (b"553", self.username),
                (b"554", self.password if password is None else password)]  # fmt: skip
        self.send_pairs(b"A", body)
        return self.wait_for(lambda r: r.msg_type in ("A", "5"), timeout_s, "logon answer")

    # -- sending -----------------------------------------------------------------------

    def take_seq(self) -> int:
        seq, self.next_seq = self.next_seq, self.next_seq + 1
        return seq

    def send_pairs(self, msg_type: bytes, body: list[Pair], seq: int | None = None) -> int:
        seq = self.take_seq() if seq is None else seq
        self.send_raw(frame(header(msg_type, self.sender, self.target, seq) + body))
        return seq

    def send_raw(self, data: bytes) -> None:
        assert self.sock is not None
        try:
            self.sock.sendall(data)
        except OSError as e:
            raise SessionGone(str(e)) from e

    def test_request(self) -> tuple[bytes, int]:
        """A TestRequest with a fresh TestReqID (112); (its id, its MsgSeqNum)."""
        self._test_ids += 1
        test_id = b"T%d" % self._test_ids
        return test_id, self.send_pairs(b"1", [(b"112", test_id)])

    def gap_fill(self, begin: int, new_seq: int) -> None:
        """SequenceReset-GapFill from `begin` to `new_seq`: we resend nothing (a fuzz
        message the acceptor did not take is never sent again)."""
        pairs = header(b"4", self.sender, self.target, begin)
        pairs += [(b"43", b"Y"), (b"122", now_stamp()), (b"123", b"Y"),
                  (b"36", str(new_seq).encode())]  # fmt: skip
        self.send_raw(frame(pairs))
        self.gap_fills += 1

    # -- reading -----------------------------------------------------------------------

    def pump(self, timeout_s: float) -> list[Reply]:
        """Whatever arrives within `timeout_s` (at least one read); SessionGone on EOF."""
        assert self.sock is not None
        self.sock.settimeout(max(timeout_s, 0.0005))
        try:
            data = self.sock.recv(65536)
        except TimeoutError:
            return []
        except OSError as e:
            raise SessionGone(str(e)) from e
        if not data:
            raise SessionGone("closed by the acceptor")
        got = self._reader.feed(data)
        self.inbox.extend(got)
        return got

    def wait_for(self, pred: object, timeout_s: float, what: str) -> Reply:
        """The first message in the inbox (or arriving) matching `pred`, removed from it."""
        assert callable(pred)
        deadline = time.monotonic() + timeout_s
        while True:
            for i, reply in enumerate(self.inbox):
                if pred(reply):
                    return self.inbox.pop(i)
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"{self.sender.decode()}: no {what} within {timeout_s} s")
            self.pump(left)


__all__ = ["Pair", "RawSession", "Reader", "Reply", "SessionGone", "checksum", "frame",
           "header", "now_stamp"]  # fmt: skip
