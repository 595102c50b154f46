"""Property tests for single invariants: parents (5), idempotency across a restart (7), the
sliding rate window against a brute-force count, and garbage in any request field.

Each compares the system with a few lines of obviously-correct test code, over inputs
Hypothesis draws (derandomized: the same inputs every run, so a failure reproduces).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from enum import StrEnum
from types import SimpleNamespace
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hypothesis_profiles import examples
from interlock.api.config import load_config
from interlock.domain.commands import OrderRequest, ParentOrder
from interlock.domain.decision import Decision
from interlock.domain.enums import (
    HaltScope,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
    TradingSession,
)
from interlock.domain.events import OrderDecided
from interlock.domain.order import Order
from interlock.domain.reject import RejectCode
from interlock.gateway.decode import decode
from interlock.journal.memory import MemoryJournal
from interlock.journal.sqlite import SqliteJournal
from interlock.risk.book import Book
from interlock.risk.engine import RiskEngine
from interlock.risk.limits import RateLimit
from interlock.risk.windows import SlidingWindow
from interlock.sim.harness import DESK_KEY, MM_KEY, START_NS, ManualClock, build

PROPS = settings(max_examples=100, deadline=None, derandomize=True)
GARBLED = settings(PROPS, max_examples=examples(ci=300, thorough=1_000))
MS = 1_000_000
T0 = START_NS  # continuous trading in the default calendar


@contextmanager
def journal_file() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as d:
        yield os.path.join(d, "journal.db")


# -- (a) invariant 5 at the engine: children never sum past their parent ---------------

PARENT_QTY = {"P1": 300, "P2": 120}
CHILD_OPS = st.lists(
    st.one_of(
        st.tuples(
            st.just("child"),
            st.sampled_from(["P1", "P2", "P-none"]),
            st.sampled_from([1, 40, 60, 100, 150]),
        ),
        st.tuples(st.just("fill"), st.integers(0, 99), st.integers(1, 200)),  # may over-fill
        st.tuples(st.just("cancel"), st.integers(0, 99), st.none()),
        st.tuples(st.just("late_fill"), st.integers(0, 99), st.integers(1, 100)),
    ),
    max_size=40,
)


@PROPS
@given(ops=CHILD_OPS)
def test_children_of_a_parent_never_exceed_it_whatever_the_fills(ops: list[Any]) -> None:
    """Children are accepted only while filled + open + new <= parent, even after a venue
    over-fills or fills an order it had already cancelled (a fill is a fact)."""
    cfg = load_config()
    book = Book(cfg.limits, cfg.instrument_map(), cfg.calendar.compile())
    engine = RiskEngine(book, disabled=("duplicate_order", "rate_limit"))
    for pid, qty in PARENT_QTY.items():
        book.apply_parent(ParentOrder(pid, "desk-7", "AAPL", Side.BUY, qty))
    accepted: list[Order] = []
    now = T0
    for kind, a, b in ops:
        now += MS
        book.apply_reference("AAPL", 10_000, now)
        if kind == "child":
            request = OrderRequest(f"c{len(accepted)}", "desk-7", "vwap", "AAPL", Side.BUY, b,
                                   limit_price=Decimal("100.00"), parent_id=a)  # fmt: skip
            order = decode(request, book.instruments, book, "desk-7-algo", now)
            assert isinstance(order, Order)
            if engine.check(SimpleNamespace(order=order, now=now)) is None:
                order.order_id = len(accepted) + 1
                order.status = OrderStatus.WORKING
                book.apply_accept(order)
                accepted.append(order)
                # the property, judged when it matters: at the moment of acceptance
                children = [o for o in accepted if o.parent_id == a]
                total = sum(o.filled + o.leaves for o in children)
                assert total <= PARENT_QTY[a], (a, total)
        elif accepted:
            order = accepted[a % len(accepted)]
            if kind == "cancel":
                book.apply_done(order, OrderStatus.CANCELLED)
            elif kind == "late_fill":
                if not order.status.is_open:
                    book.apply_fill(order, b, 10_000)
            elif order.status.is_open:
                book.apply_fill(order, min(b, order.leaves + 20), 10_000)  # over-fills by <= 20
        for pid, ps in book.parents.items():
            children = [o for o in accepted if o.parent_id == pid]
            assert ps.filled == sum(o.filled for o in children)
            assert ps.open == sum(o.leaves for o in children if o.status.is_open)


# -- (b) invariant 7 across a restart: same key, same decision ---------------------------

KEYED = st.lists(
    st.fixed_dictionaries(
        {
            "account": st.sampled_from(["desk-7", "mm-1"]),
            "symbol": st.sampled_from(["AAPL", "KCG", "MSFT"]),  # KCG is restricted
            "side": st.sampled_from(list(Side)),
            "quantity": st.sampled_from([1, 100, 30_000]),  # 30,000: over max order qty
            "offset": st.sampled_from([0, 1, -1, 900]),  # 900 ticks: outside the collar
            "key": st.sampled_from(["k1", "k2", "k3", "k4"]),
        }
    ),
    min_size=1,
    max_size=12,
)


@PROPS
@given(drafts=KEYED, halt_first=st.booleans())
def test_same_key_gives_the_same_decision_across_a_restart(
    drafts: list[dict[str, Any]], halt_first: bool
) -> None:
    with journal_file() as path:
        h = build(journal=SqliteJournal(path, background=False), clock=ManualClock(START_NS))
        first: dict[tuple[str, str], tuple[str, OrderRequest, Decision]] = {}
        for i, d in enumerate(drafts):
            api_key = DESK_KEY if d["account"] == "desk-7" else MM_KEY
            request = h.order(
                client_order_id=f"c{i}", account=d["account"], symbol=d["symbol"],
                strategy="vwap" if d["account"] == "desk-7" else "mm", side=d["side"],
                quantity=d["quantity"], idempotency_key=d["key"],
                limit_price=Decimal(10_000 + d["offset"]) / 100,
            )  # fmt: skip
            decision = h.gateway.submit(request, api_key)
            h.journal.flush()
            seen = first.setdefault((api_key, d["key"]), (api_key, request, decision))
            if seen[2] is not decision:  # a later request with the key: never a new decision
                assert decision.code is RejectCode.IDEMPOTENCY_CONFLICT
        h.gateway.close()

        h2 = build(journal=SqliteJournal(path, background=False), clock=ManualClock(START_NS))
        if halt_first:  # a replay answers before halts: it reports, it decides nothing
            h2.gateway.halt(HaltScope.GLOBAL, "", "stop", "ops")
        last_seq = h2.journal.last_seq
        for api_key, request, decision in first.values():
            again = h2.gateway.submit(request, api_key)
            assert again.replayed
            assert (again.order_id, again.rejection, again.seq) == (
                decision.order_id, decision.rejection, decision.seq,
            )  # fmt: skip
            changed = msgspec.structs.replace(request, quantity=request.quantity + 1)
            conflict = h2.gateway.submit(changed, api_key)
            assert conflict.code is RejectCode.IDEMPOTENCY_CONFLICT
        h2.journal.flush()
        new = [ev for seq, ev in h2.journal.read(last_seq) if isinstance(ev, OrderDecided)]
        assert all(ev.order_id is None for ev in new)  # replays and conflicts accept nothing
        h2.gateway.close()


# -- (c) the sliding window against a brute-force count -----------------------------------


def admit_all(count: int, window_ms: int, stamps: list[int]) -> list[int]:
    """Drive a window the way the rate check does: admit when not full, then record."""
    w = SlidingWindow(RateLimit(count=count, window_ms=window_ms))
    admitted = []
    for t in stamps:
        if not w.full(t):
            w.record(t)
            admitted.append(t)
    return admitted


def in_window(admitted: list[int], end: int, window_ns: int) -> int:
    """Brute force: admitted stamps t with end - T < t <= end."""
    return sum(1 for t in admitted if end - window_ns < t <= end)


STAMPS = st.lists(st.integers(0, 300).map(lambda ms: T0 + ms * MS) | st.integers(T0, T0 + 300 * MS),
                  max_size=60)  # fmt: skip


@PROPS
@given(count=st.integers(1, 6), window_ms=st.integers(1, 50), stamps=STAMPS)
def test_window_never_admits_more_than_count_in_any_window(
    count: int, window_ms: int, stamps: list[int]
) -> None:
    """Whatever order the stamps come in (a wall clock may step back), no window of length
    T holds more than N admitted orders."""
    admitted = admit_all(count, window_ms, stamps)
    worst = max((in_window(admitted, end, window_ms * MS) for end in admitted), default=0)
    assert worst <= count


@PROPS
@given(count=st.integers(1, 6), window_ms=st.integers(1, 50), stamps=STAMPS.map(sorted))
def test_window_admits_exactly_while_fewer_than_count_are_in_the_window(
    count: int, window_ms: int, stamps: list[int]
) -> None:
    """With time moving forward the window is exact: never refuses an order it could take."""
    w = SlidingWindow(RateLimit(count=count, window_ms=window_ms))
    admitted: list[int] = []
    for t in stamps:
        room = in_window(admitted, t, window_ms * MS) < count
        assert (not w.full(t)) == room, (t, admitted)
        if room:
            w.record(t)
            admitted.append(t)


# -- (d) garbage in any request field: a decision, never a crash or a poisoned journal ---


class Text(str):
    """A str subclass, as some decoders hand over (numpy.str_, markupsafe.Markup)."""


class Price(Decimal):
    pass


GARBAGE = st.one_of(
    st.text(max_size=200),
    st.text(max_size=20).map(Text),  # subclasses must not reach the journal's encoder
    st.decimals(allow_nan=False).map(Price),
    st.integers(20, 10**6).map(lambda e: Decimal(f"1E+{e}")),  # exponents past any price
    st.integers(),
    st.none(),
    st.floats(),
    st.integers(-5, 500).map(float),  # integral floats: 100.0 is not 100
    st.decimals(allow_nan=True),
    st.booleans(),  # True is an int, but not a quantity
    st.binary(max_size=16),
    st.lists(st.integers(), max_size=3),
)


def enum_field(cls: type[StrEnum]) -> st.SearchStrategy[Any]:
    return st.sampled_from(list(cls)) | st.sampled_from([m.value for m in cls])


VALID = {
    "client_order_id": st.text(min_size=1, max_size=20),
    "account": st.sampled_from(["desk-7", "mm-1"]),
    "strategy": st.sampled_from(["vwap", "mm"]),
    "symbol": st.sampled_from(["AAPL", "BRK.A", "KCG"]),
    "side": enum_field(Side),
    "quantity": st.integers(1, 500),
    "order_type": enum_field(OrderType),
    "limit_price": st.decimals("0.01", "200", places=2),
    "time_in_force": enum_field(TimeInForce),
    "session": enum_field(TradingSession),
    "parent_id": st.none(),
    "idempotency_key": st.none() | st.sampled_from(["k1", "k2"]),
}


@st.composite
def garbled_fields(draw: st.DrawFn) -> dict[str, Any]:
    """A plausible request with one, a few, or any of its fields replaced by garbage."""
    fields = {name: draw(valid) for name, valid in VALID.items()}
    spoil = draw(
        st.sets(st.sampled_from(sorted(VALID)), min_size=1, max_size=3) | st.just(set(VALID))
    )
    for name in spoil:
        fields[name] = draw(GARBAGE if len(spoil) < len(VALID) else VALID[name] | GARBAGE)
    return fields


ENUMS = {"side": Side, "order_type": OrderType, "time_in_force": TimeInForce,
         "session": TradingSession}  # fmt: skip


def wrong_type(fields: dict[str, Any]) -> list[str]:
    """Fields whose value is not even of the declared type (these must be SCHEMA_INVALID)."""

    def ok(name: str, value: Any) -> bool:
        if name in ENUMS:
            cls = ENUMS[name]
            return type(value) is cls or (type(value) is str and value in {m.value for m in cls})
        if name == "quantity":
            return type(value) is int
        if name == "limit_price":
            return value is None or type(value) is Decimal
        if name in ("parent_id", "idempotency_key"):
            return value is None or type(value) is str
        return type(value) is str

    return [name for name, value in fields.items() if not ok(name, value)]


def submit_then_reopen(path: str, request: Any, api_key: str = DESK_KEY) -> Decision:
    """Submit over a SQLite journal, flush, check a valid order still goes, reopen the file
    and rebuild a gateway from it. Any fault along the way fails the test."""
    h = build(journal=SqliteJournal(path, background=False), clock=ManualClock(START_NS))
    decision = h.gateway.submit(request, api_key)
    assert isinstance(decision, Decision)
    h.journal.flush()  # JournalError here: one bad request poisoned the journal
    after = h.submit(DESK_KEY, client_order_id="after-garbage", quantity=7)
    assert after.accepted or decision.accepted, after.message
    before = sorted(h.gateway.book.orders)
    h.gateway.close()
    h2 = build(journal=SqliteJournal(path, background=False), clock=ManualClock(START_NS))
    assert sorted(h2.gateway.book.orders) == before
    assert [seq for seq, _ in h2.journal.read()] == list(range(1, h2.journal.last_seq + 1))
    assert h2.submit(DESK_KEY, client_order_id="after-restart", quantity=9).accepted
    h2.gateway.close()
    return decision


@GARBLED
@given(fields=garbled_fields())
def test_garbage_in_any_field_is_a_decision_and_the_journal_stays_usable(
    fields: dict[str, Any],
) -> None:
    request = OrderRequest(**fields)  # Structs do not validate on construction: the transport
    with journal_file() as path:  # may hand over anything
        decision = submit_then_reopen(path, request)
    if wrong_type(fields):
        assert decision.code is RejectCode.SCHEMA_INVALID, (wrong_type(fields), decision.message)


POISON = {
    "account": Text("desk-7"),
    "strategy": Text("vwap"),
    "side": Text("buy"),
    "idempotency_key": Text("k1"),
    "parent_id": Text("P1"),
    "limit_price": Price("100.00"),
}


@pytest.mark.parametrize("field", sorted(POISON))
def test_a_str_or_decimal_subclass_in_a_field_does_not_poison_the_journal(field: str) -> None:
    """Once, msgspec could not encode a subclass: the writer failed closed for everyone."""
    with journal_file() as path:
        h = build()
        submit_then_reopen(path, h.order(**{field: POISON[field]}))


@pytest.mark.parametrize("price", ["1E+999999", "1E+5000"])
def test_a_limit_price_with_a_huge_exponent_is_a_decision(price: str) -> None:
    """Once decimal.Overflow (1E+999999) or a ValueError formatting a >4,300-digit notional
    (1E+5000) escaped submit."""
    with journal_file() as path:
        h = build()
        decision = submit_then_reopen(path, h.order(limit_price=Decimal(price)))
    assert decision.code is RejectCode.SCHEMA_INVALID


# -- recovery: gross exposure rebuilt after a restart -----------------------------------


def test_restart_rebuilds_gross_exposure_of_positions_opened_before_the_first_fill() -> None:
    """Recovery folds with no reference prices: the first fill sets the mark. It once did so
    without re-valuing the other holders, and a reference equal to that mark changed
    nothing, so desk-7's resting buy counted 0 gross after a restart."""
    journal, clock = MemoryJournal(), ManualClock(START_NS)
    h = build(journal=journal, clock=clock)
    assert h.submit(DESK_KEY, quantity=100, limit_price=Decimal("99.99")).accepted  # rests
    mm = h.submit(MM_KEY, account="mm-1", strategy="mm", limit_price=Decimal("100.01"))
    assert mm.accepted and h.gateway.book.accounts["mm-1"].positions["AAPL"].pos == 100
    h.market.set_mid("AAPL", 10_001)  # the reference now equals the first fill price
    journal.flush()
    before = {a: acct.gross for a, acct in h.gateway.book.accounts.items()}
    h2 = build(journal=journal, clock=clock, restart_of=h)  # the same venue, mid 100.01
    after = {a: acct.gross for a, acct in h2.gateway.book.accounts.items()}
    assert after == before
    assert h2.gateway.book.firm.gross == h.gateway.book.firm.gross
