"""A seeded FIX 4.4 fuzz generator: valid D / F / G / H / q messages, then broken.

Every case starts from a message the acceptor would take (the tags api/fix/app.py and
fixengine/codec.py read), then one mutator family changes it: a hostile value in one tag
(empty, huge, non-ASCII, invalid UTF-8, control bytes, negative, overflow, exponent
bombs), a tag left out or repeated, tags shuffled or unknown, an unknown MsgType, a
message that is valid but hostile (10^12 shares, price 0, an unlisted symbol, another
account, a cancel of another session's order, a ClOrdID used twice), a wrong MsgSeqNum
(too low, a gap), or broken framing (CheckSum, BodyLength, truncation, an SOH inside a
value). A case is data (`FuzzCase`): the driver (sim/fix_fuzz_run.py) gives it its
MsgSeqNum at send time and `render`s it. `Fuzzer(seed)` always yields the same cases, so
a failure names its seed and index and reproduces.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from interlock.sim.fix_wire import SOH, Pair, checksum, frame, header

SYMBOLS = ("AAPL", "MSFT", "AMZN", "NVDA", "GOOG", "META", "JPM", "XOM", "SPY")
ADMIN_TYPES = frozenset({"0", "1", "2", "3", "4", "5", "A"})

# How a case reaches the wire: "" well framed; the others break framing on purpose.
FRAMINGS = ("checksum", "checksum_text", "length_short", "length_long", "length_text",
            "truncate", "soh_in_value")  # fmt: skip
# How its MsgSeqNum is chosen: "" the next one, "gap" ahead of it, "low" one already used.
SEQ_FAULTS = ("gap", "low")


@dataclass(frozen=True, slots=True)
class FuzzCase:
    """One message to send. `family` names the mutator (for tallies and reproduction);
    `body` the (tag, value) pairs after the standard header; `header` pairs replace or
    add to the header (tag -> value, value b"" with `drop_header` removes it)."""

    index: int
    family: str
    msg_type: bytes
    body: tuple[Pair, ...]
    header: tuple[Pair, ...] = ()
    drop_header: tuple[bytes, ...] = ()
    framing: str = ""
    seq_fault: str = ""
    header_after_body: bool = False

    @property
    def keys(self) -> frozenset[str]:
        """ClOrdID (11) values the answer may echo (a repeated 11: any of them)."""
        return frozenset(v.decode("utf-8", "replace") for t, v in self.body if _tag(t) == 11)


def _tag(t: bytes) -> int:
    return int(t) if t.isdigit() else -1


def render(case: FuzzCase, sender: bytes, target: bytes, seq: int) -> bytes:
    """The bytes of `case` with MsgSeqNum `seq` (already chosen for its seq fault)."""
    head = header(case.msg_type, sender, target, seq)
    over = dict(case.header)
    head = [(t, over.pop(t, v)) for t, v in head if t not in case.drop_header]
    head += list(over.items())
    pairs = list(case.body) + head if case.header_after_body else head + list(case.body)
    if case.framing in ("", "soh_in_value"):
        return frame(pairs)  # an SOH inside a value: the body is broken, its framing right
    good = frame(pairs)
    body_at = good.index(SOH, good.index(b"9=")) + 1
    trailer_at = good.rindex(b"10=")
    body = good[body_at:trailer_at]
    head8 = good[: good.index(b"9=")]
    if case.framing == "checksum":
        bad = b"%03d" % ((int(checksum(good[:trailer_at])) + 1) % 256)
        return good[:trailer_at] + b"10=" + bad + SOH
    if case.framing == "checksum_text":
        return good[:trailer_at] + b"10=x1" + SOH
    if case.framing == "length_short":
        return head8 + b"9=%d" % max(len(body) - 7, 1) + SOH + body + good[trailer_at:]
    if case.framing == "length_text":
        return head8 + b"9=1x" + SOH + body + good[trailer_at:]
    if case.framing == "length_long":
        extra = 1 + case.index % 40
        out = head8 + b"9=%d" % (len(body) + extra) + SOH + body + good[trailer_at:]
        return out + resync(extra)
    assert case.framing == "truncate"
    cut = body_at + 1 + case.index % max(len(good) - body_at - 2, 1)
    return good[:cut] + resync(len(good))


def resync(pad: int) -> bytes:
    """Filler after a frame that claims more bytes than it has: satisfies any BodyLength
    up to `pad` and ends in a trailer, so the engine's parser frames (and drops) the
    broken message without eating the next one. The filler is never a valid message."""
    return SOH + b"x" * pad + SOH + b"10=000" + SOH


# -- values ------------------------------------------------------------------------------

_HOSTILE_TEXT: tuple[bytes, ...] = (
    b"", b" ", b"-1", b"-0", b"0", b"00000000000000000000001", b"1" * 400, b"9" * 40,
    b"1e9999999", b"1E+999999999", b"-1e-9999999", b"NaN", b"Infinity", b"-Infinity",
    b"sNaN", b"0x10", b"1_000", b"1,000", b"100.", b".5", b"1.5", b"1e2", b"+100",
    b"\xc3\xa9\xe2\x82\xac", b"\xff\xfe\xfd", b"\xed\xa0\x80", b"\x00", b"\x1b[2J",
    b"\x7f", b"\xc2\x85", b"a=b", b"%s%s%n", b"'; DROP TABLE events;--", b"../../etc/passwd",
    b"\t\r\n", b"A" * 70_000, b"\xf0\x9f\x92\xa5" * 300, b"18446744073709551616",
    b"-9223372036854775809", b"2147483648", b"4294967296", b"1" + b"0" * 30,
)  # fmt: skip


def hostile_value(rng: random.Random) -> bytes:
    """One value no field should have to accept: listed extremes, or random bytes."""
    if rng.random() < 0.75:
        return rng.choice(_HOSTILE_TEXT)
    n = rng.choice((1, 2, 8, 64, 1024))
    return bytes(rng.choice([b for b in range(256) if b != 1]) for _ in range(n))


class Fuzzer:
    """Cases for one desk session, `prefix` in every ClOrdID it makes up; `others`: ClOrdID
    prefixes of the other sessions (their orders are what a hostile cancel aims at)."""

    def __init__(self, seed: int, prefix: str, account: str, others: tuple[str, ...] = ()):
        self.rng = random.Random(seed)
        self.prefix, self.account, self.others = prefix, account, others
        self._n = 0
        self._placed: list[str] = []  # ClOrdIDs of well-formed orders sent (may be live)
        self._families: list[tuple[float, Callable[[int], FuzzCase]]] = [
            (0.14, self._valid),
            (0.30, self._garbage_in_tag),
            (0.07, self._missing_tag),
            (0.06, self._repeated_tag),
            (0.04, self._unknown_tags),
            (0.04, self._reordered),
            (0.05, self._unknown_type),
            (0.14, self._hostile),
            (0.10, self._broken_frame),
            (0.03, self._seq_fault),
            (0.03, self._header_garbage),
        ]

    def __iter__(self) -> Fuzzer:
        return self

    def __next__(self) -> FuzzCase:
        self._n += 1
        r, acc = self.rng.random() * sum(w for w, _ in self._families), 0.0
        for weight, make in self._families:
            acc += weight
            if r <= acc:
                return make(self._n)
        return self._families[-1][1](self._n)

    # -- valid messages ------------------------------------------------------------------

    def _cl(self) -> bytes:
        return f"{self.prefix}-{self._n}-{self.rng.randrange(10**6)}".encode()

    def _orig(self) -> bytes:
        if self._placed and self.rng.random() < 0.8:
            return self.rng.choice(self._placed[-50:]).encode()
        return f"{self.prefix}-never-{self.rng.randrange(10**6)}".encode()

    def _price(self) -> bytes:
        return f"{self.rng.choice((99, 100))}.{self.rng.randrange(100):02d}".encode()

    def _order_fields(self, msg: str) -> list[Pair]:
        rng = self.rng
        pairs = [(b"11", self._cl())]
        if msg in "FG":
            pairs.append((b"41", self._orig()))
        pairs += [(b"55", rng.choice(SYMBOLS).encode()), (b"54", rng.choice((b"1", b"2", b"5")))]
        if msg in "DFG":
            pairs.append((b"38", str(rng.randrange(1, 500)).encode()))
        if msg in "DG":
            pairs += [(b"40", b"2"), (b"44", self._price()), (b"59", rng.choice((b"0", b"3")))]
            pairs.append((b"60", b"20261203-10:00:00.000"))
        if msg == "H":
            pairs = [(b"11", self._orig()), pairs[1], pairs[2], (b"790", b"S%d" % self._n)]
        if msg == "q":
            kind = rng.choice((b"1", b"7"))
            pairs = [(b"11", self._cl()), (b"530", kind), pairs[-2]]
        return pairs

    def _base(self, msg: str | None = None) -> tuple[str, list[Pair]]:
        msg = msg or self.rng.choice("DDDFGHq")
        return msg, self._order_fields(msg)

    def _case(self, n: int, family: str, msg: str, body: list[Pair], **kw: object) -> FuzzCase:
        return FuzzCase(n, family, msg.encode(), tuple(body), **kw)  # type: ignore[arg-type]

    def _valid(self, n: int) -> FuzzCase:
        msg, body = self._base()
        if msg == "D":
            self._placed.append(body[0][1].decode())
        return self._case(n, f"valid.{msg}", msg, body)

    # -- mutators ------------------------------------------------------------------------

    def _garbage_in_tag(self, n: int) -> FuzzCase:
        msg, body = self._base()
        i = self.rng.randrange(len(body))
        tag = body[i][0]
        body[i] = (tag, hostile_value(self.rng))
        return self._case(n, f"garbage.{msg}.{tag.decode()}", msg, body)

    def _missing_tag(self, n: int) -> FuzzCase:
        msg, body = self._base()
        tag = body.pop(self.rng.randrange(len(body)))[0]
        return self._case(n, f"missing.{msg}.{tag.decode()}", msg, body)

    def _repeated_tag(self, n: int) -> FuzzCase:
        msg, body = self._base()
        tag, _ = self.rng.choice(body)
        body.insert(self.rng.randrange(len(body) + 1), (tag, hostile_value(self.rng)[:32]))
        return self._case(n, f"repeated.{msg}.{tag.decode()}", msg, body)

    def _unknown_tags(self, n: int) -> FuzzCase:
        msg, body = self._base()
        for _ in range(self.rng.randrange(1, 5)):
            tag = self.rng.choice((b"0", b"011", b"9999", b"5000", b"65536", b"99999999999",
                                   b"-5", b"abc", b"8", b"10", b"9", b"35"))  # fmt: skip
            body.insert(self.rng.randrange(len(body) + 1), (tag, self._price()))
        return self._case(n, f"unknown_tag.{msg}", msg, body)

    def _reordered(self, n: int) -> FuzzCase:
        msg, body = self._base()
        self.rng.shuffle(body)
        after = self.rng.random() < 0.5
        family = f"reordered.{msg}" + (".header_last" if after else "")
        return self._case(n, family, msg, body, header_after_body=after)

    def _unknown_type(self, n: int) -> FuzzCase:
        _, body = self._base("D")
        choices = ("Z", "ZZ", "U1", "8", "9", "j", "r", "V", "AE", "BE", "xx", "D ", "d", "AF")
        msg = self.rng.choice(choices)
        return self._case(n, "unknown_type", msg, body)

    def _hostile(self, n: int) -> FuzzCase:
        rng = self.rng
        kind = rng.choice(("qty_huge", "price_zero", "price_negative", "unlisted", "account",
                           "restricted", "market", "dup_clordid", "cancel_other",
                           "replace_symbol", "mass_account", "mass_unlisted", "status_other",
                           "tiny_price", "short"))  # fmt: skip
        msg, body = self._base("D")
        fields = dict(body)
        if kind == "qty_huge":
            fields[b"38"] = b"1000000000000"
        elif kind == "price_zero":
            fields[b"44"] = b"0"
        elif kind == "price_negative":
            fields[b"44"] = b"-100.00"
        elif kind == "tiny_price":
            fields[b"44"] = b"0.0001"
        elif kind == "unlisted":
            fields[b"55"] = rng.choice((b"ZZZZ", b"aapl", b"AAPL ", b"BRK.B", b"X" * 200))
        elif kind == "account":
            fields[b"1"] = rng.choice((b"mm-1", b"desk-8", b"*", self.account.upper().encode()))
        elif kind == "restricted":
            fields[b"55"] = b"KCG"
        elif kind == "market":
            fields[b"40"] = b"1"
            del fields[b"44"]
        elif kind == "short":
            fields[b"54"] = b"5"
        elif kind == "dup_clordid" and self._placed:
            fields[b"11"] = rng.choice(self._placed[-50:]).encode()
        elif kind in ("cancel_other", "status_other") and self.others:
            other = f"{rng.choice(self.others)}-{rng.randrange(1, 500)}-0".encode()
            msg, base = self._base("F" if kind == "cancel_other" else "H")
            fields = dict(base)
            fields[b"41" if kind == "cancel_other" else b"11"] = other
        elif kind == "replace_symbol":
            msg, base = self._base("G")
            fields = dict(base)
            fields[b"55"] = b"TSLA"
        elif kind in ("mass_account", "mass_unlisted"):
            msg, base = self._base("q")
            fields = dict(base)
            if kind == "mass_account":
                fields[b"1"] = b"mm-1"
            else:
                fields[b"530"], fields[b"55"] = b"1", b"NOPE"
        return self._case(n, f"hostile.{kind}", msg, list(fields.items()))

    def _broken_frame(self, n: int) -> FuzzCase:
        msg, body = self._base()
        how = self.rng.choice(FRAMINGS)
        if how == "soh_in_value":
            i = self.rng.randrange(len(body))
            tag, value = body[i]
            body[i] = (tag, value[:1] + SOH + self.rng.choice((b"55=X", b"junk", b"=", b"")))
        return self._case(n, f"frame.{how}", msg, body, framing=how)

    def _seq_fault(self, n: int) -> FuzzCase:
        msg, body = self._base()
        how = self.rng.choice(SEQ_FAULTS)
        return self._case(n, f"seq.{how}", msg, body, seq_fault=how)

    def _header_garbage(self, n: int) -> FuzzCase:
        msg, body = self._base()
        rng = self.rng
        tag = rng.choice((b"52", b"52", b"49", b"56", b"34", b"43", b"97", b"122", b"115"))
        if rng.random() < 0.3 and tag in (b"52", b"49", b"56", b"34"):
            return self._case(n, f"header_missing.{tag.decode()}", msg, body, drop_header=(tag,))
        value = hostile_value(rng)[:64]
        if tag == b"34":
            return self._case(n, "header.34", msg, body, header=((tag, value or b"x"),),
                              seq_fault="garbage")  # fmt: skip
        return self._case(n, f"header.{tag.decode()}", msg, body, header=((tag, value),))


__all__ = ["ADMIN_TYPES", "FRAMINGS", "FuzzCase", "Fuzzer", "hostile_value", "render", "resync"]
