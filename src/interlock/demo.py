"""`interlock demo`: one scripted trading session through a real gateway, told as a story.

Everything is real except the market: the packaged default config, the order path, a
SQLite journal with group commit, the embedded control plane and its kill switch, and a
seeded simulated venue whose mid prices feed the gateway's reference prices. Time is the
wall clock moved to a fixed NYSE day (1 August 2025, New York time), so the calendar's real
sessions tell the story at whatever hour the demo runs: act 1 in pre-open, then continuous
trading. After each submit the script waits for the decision to be durable (and, if
accepted, released to the venue) before it reads the outcome.

Each step states the outcome it expects. A step that turns out otherwise is shown in red
and reported in `DemoResult.surprises`, so the demo doubles as an end-to-end smoke test.
"""

from __future__ import annotations

import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from rich.console import Console
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from interlock.domain.commands import OrderRequest, ParentOrder
from interlock.domain.decision import Decision
from interlock.domain.enums import HaltScope, OrderStatus, OrderType, Side, TradingSession
from interlock.domain.reject import RejectCode
from interlock.journal.sqlite import SqliteJournal
from interlock.render_text import describe_request
from interlock.sim.harness import DESK_KEY, MM_KEY, Harness, build, new_york_ns

ACCEPTED = "ACCEPTED"
DEFAULT_SEED = 21  # a venue path where one of Power Peg's children fills only in part
BUY, SELL, SHORT = Side.BUY, Side.SELL, Side.SELL_SHORT
AUCTION = TradingSession.OPENING_AUCTION
PositionRow = tuple[str, str, int, int, int]  # account, symbol, position, open buys, open sells
DEMO_DAY = "2025-08-01"  # a Friday, a normal NYSE day
PRE_OPEN_AT = new_york_ns(DEMO_DAY, "09:15")
OPEN_AT = new_york_ns(DEMO_DAY, "09:31")
_SECOND = 1_000_000_000


class DemoClock:
    """The wall clock, shifted to a fixed instant: time flows as it really does (the
    journal's group commit and the lease see real durations), but the calendar sees a
    trading day. `fast_forward` jumps ahead a second at a time, renewing the lease at each
    step as the heartbeat would, so the instance never loses it on the way."""

    def __init__(self, start_ns: int) -> None:
        self.offset = start_ns - time.time_ns()

    def __call__(self) -> int:
        return time.time_ns() + self.offset

    def fast_forward(self, to_ns: int, h: Harness) -> None:
        while (now := self()) < to_ns:
            self.offset += min(_SECOND, to_ns - now)
            h.gateway.heartbeat()


@dataclass(frozen=True, slots=True)
class DemoRow:
    """One step of the story: an order (with its decision) or a control action."""

    client_order_id: str
    what: str
    outcome: str  # ACCEPTED, a reject code, or the control action (PARENT, HALT, RESUME)
    decision: str
    sentence: str
    expected: str
    is_order: bool = True
    replayed: bool = False

    @property
    def as_expected(self) -> bool:
        return self.outcome == self.expected


@dataclass(frozen=True)
class DemoResult:
    rows: tuple[DemoRow, ...]
    positions: tuple[PositionRow, ...]
    durable_records: int
    journal_path: Path | None  # None when the journal lived in a temporary directory

    @property
    def orders(self) -> tuple[DemoRow, ...]:
        return tuple(r for r in self.rows if r.is_order)

    @property
    def accepted(self) -> int:
        return sum(r.outcome == ACCEPTED for r in self.orders)

    @property
    def rejected(self) -> dict[str, int]:
        """Rejections by code, in the enum's (order-path) order."""
        counts = Counter(r.outcome for r in self.orders if r.outcome != ACCEPTED)
        return {c.value: counts[c.value] for c in RejectCode if counts[c.value]}

    @property
    def surprises(self) -> tuple[DemoRow, ...]:
        return tuple(r for r in self.rows if not r.as_expected)

    def summary(self) -> str:
        replayed = sum(r.replayed for r in self.orders)
        by_code = ", ".join(f"{code} {n}" for code, n in self.rejected.items())
        return (
            f"{len(self.orders)} orders: {self.accepted} accepted ({replayed} replayed), "
            f"{sum(self.rejected.values())} rejected ({by_code}); "
            f"{self.durable_records} journal records durable"
        )


@dataclass
class _Session:
    """The script's pen: submits through the gateway and prints one table per act."""

    h: Harness
    clock: DemoClock
    console: Console
    rows: list[DemoRow] = field(default_factory=list)
    table: Table | None = None

    def act(self, title: str, story: str) -> None:
        self.end_act()
        self.h.gateway.heartbeat()  # wall clock: keep the lease and the references fresh
        self.h.refresh_references()
        self.console.print(Rule(Text(title, style="bold")))
        self.console.print(Text(story, style="italic"))
        self.table = Table(show_edge=False, expand=True, pad_edge=False)
        self.table.add_column("id", no_wrap=True, width=5)
        self.table.add_column("order", ratio=3)
        self.table.add_column("decision", no_wrap=True, width=24)
        self.table.add_column("why", ratio=4)

    def end_act(self) -> None:
        if self.table is not None:
            self.console.print(self.table)
            self.table = None

    def order(
        self,
        expect: str,
        cid: str,
        side: Side,
        qty: int,
        symbol: str,
        price: str | None = None,
        *,
        mm: bool = False,
        key: str = DESK_KEY,
        session: TradingSession | None = None,  # None: the server's calendar decides
        parent: str | None = None,
        idempotency_key: str | None = None,
        note: str = "",
    ) -> Decision:
        """Submit one order (desk-7/vwap, or mm-1/quotes when `mm`), wait, add its row."""
        account, strategy = ("mm-1", "quotes") if mm else ("desk-7", "vwap")
        request = OrderRequest(
            client_order_id=cid,
            account=account,
            strategy=strategy,
            symbol=symbol,
            side=side,
            quantity=qty,
            order_type=OrderType.MARKET if price is None else OrderType.LIMIT,
            limit_price=None if price is None else Decimal(price),
            session=session,
            parent_id=parent,
            idempotency_key=idempotency_key,
        )
        gw = self.h.gateway
        gw.heartbeat()
        decision = gw.wait(gw.submit(request, MM_KEY if mm else key))
        what = describe_request(request, account=mm) + note
        rejection = decision.rejection
        if rejection is not None:
            outcome = shown = rejection.code.value
            why = rejection.reason
        else:
            outcome, shown = ACCEPTED, f"{ACCEPTED} #{decision.order_id}"
            why = self._fate(decision)
        self._row(DemoRow(cid, what, outcome, shown, why, expect, replayed=decision.replayed))
        return decision

    def control(self, what: str, action: str, sentence: str) -> None:
        self._row(DemoRow("", what, action, action, sentence, action, is_order=False))

    def _fate(self, decision: Decision) -> str:
        if decision.replayed:
            return "same key, same payload: the first decision again; nothing new was sent"
        order = self.h.gateway.order(decision.order_id or 0)
        if order is None:
            return "accepted"
        if order.status is OrderStatus.FILLED:
            return f"durable, sent, filled {order.filled:,}"
        if order.status is OrderStatus.WORKING:
            if order.filled:
                return f"durable, sent, filled {order.filled:,}, {order.leaves:,} working"
            return "durable, sent, working at the venue (nothing filled yet)"
        return f"durable, sent, then {order.status.name.lower()}"

    def _row(self, row: DemoRow) -> None:
        self.rows.append(row)
        style = "green" if row.outcome == ACCEPTED else "cyan" if not row.is_order else "yellow"
        decision = Text(row.decision + (" (replayed)" if row.replayed else ""), style=style)
        if not row.as_expected:
            decision = Text(f"{row.decision} (expected {row.expected})", style="bold red")
        assert self.table is not None, "act() starts a table before any step"
        self.table.add_row(Text(row.client_order_id), Text(row.what), decision, Text(row.sentence))


def _script(s: _Session) -> None:
    gw = s.h.gateway
    s.act(
        "1. Pre-open: orders for the opening auction",
        "Knight's 212 trigger orders were for the opening auction, and its price collar did not "
        "apply to auction orders. Here every session is collared against a fresh reference "
        "(100.00 for every symbol at the start): 10% before the open, 5% in continuous trading. "
        "The session is the server's calendar's, not the order's: it is 09:15 in New York, "
        "pre-open.",
    )
    s.order(ACCEPTED, "o-101", BUY, 200, "NVDA", "101.00")
    s.order(RejectCode.PRICE_COLLAR, "o-102", BUY, 200, "NVDA", "120.00",
            note=" (20% through the reference)")  # fmt: skip
    s.order(RejectCode.MARKET_ORDER_NOT_ALLOWED, "o-103", BUY, 500, "SPY")
    s.order(RejectCode.SESSION_MISMATCH, "o-104", BUY, 200, "NVDA", "101.00", session=AUCTION,
            note=" (the auction starts at 09:28)")  # fmt: skip

    s.clock.fast_forward(OPEN_AT, s.h)
    s.act(
        "2. The open: normal flow",
        "09:31 in New York, continuous trading. Ordinary orders: decided, journaled, released, "
        "filled.",
    )
    err = gw.add_locate("LOC-1", "desk-7", "MSFT", 300, OPEN_AT + 8 * 3_600 * 10**9,
                        "prime broker", "stock-loan")  # fmt: skip
    s.control(
        "locate LOC-1: 300 MSFT for desk-7 (the stock-loan desk)",
        "LOCATE" if err is None else err.code.value,
        "desk-7 may sell 300 MSFT short today",
    )
    s.order(ACCEPTED, "o-201", BUY, 100, "AAPL", "100.01")
    s.order(ACCEPTED, "o-202", SHORT, 300, "MSFT", "99.99")
    s.order(ACCEPTED, "o-203", BUY, 2_000, "JPM", "100.01")
    s.order(ACCEPTED, "m-204", SHORT, 1_000, "SPY", "99.99", mm=True,
            note=" (easy to borrow: no locate needed)")  # fmt: skip
    s.order(ACCEPTED, "m-205", BUY, 1_500, "META", mm=True)
    s.order(ACCEPTED, "m-206", SHORT, 500, "SPY", "100.05", mm=True, note=" (a resting offer)")
    s.order(ACCEPTED, "m-207", SELL, 1_000, "META", "99.99", mm=True,
            note=" (a long sale of what m-205 bought)")  # fmt: skip

    s.act(
        "3. Fat fingers, resends and bad input",
        "o-301 is o-201 again under a new id, as a restarted strategy resends its last order.",
    )
    s.order(RejectCode.DUPLICATE_ORDER, "o-301", BUY, 100, "AAPL", "100.01")
    s.order(RejectCode.MAX_ORDER_QTY, "o-302", BUY, 100_000, "AAPL", "100.01",
            note=" (two extra zeros)")  # fmt: skip
    s.order(RejectCode.MAX_ORDER_NOTIONAL, "o-303", BUY, 6_000, "AAPL", "100.01")
    s.order(RejectCode.RESTRICTED_SYMBOL, "o-304", BUY, 100, "KCG", "100.01")
    s.order(RejectCode.UNKNOWN_SYMBOL, "o-305", BUY, 100, "APPL", "100.01", note=" (a typo)")
    s.order(RejectCode.SCHEMA_INVALID, "o-306", BUY, 100, "AAPL", "100.005", note=" (off the tick)")
    s.order(
        "UNAUTHENTICATED",
        "o-307",
        BUY,
        100,
        "AAPL",
        "100.02",
        key="old-desk-key",
        note=" (a revoked API key)",
    )
    s.order(RejectCode.SESSION_MISMATCH, "o-308", BUY, 100, "AAPL", "108.00", session=AUCTION,
            note=" (a label asking for the auction's 10% collar)")  # fmt: skip
    s.order(RejectCode.SHORT_MARKING, "o-309", SELL, 500, "AAPL", "99.99",
            note=" (marked long, but desk-7 holds 100)")  # fmt: skip
    s.order(RejectCode.NO_LOCATE, "o-310", SHORT, 100, "MSFT", "99.99",
            note=" (LOC-1's 300 are used)")  # fmt: skip
    s.order(RejectCode.ADV_LIMIT, "o-311", BUY, 5, "BRK.A", "100",
            note=" (over 1% of its 400-share ADV)")  # fmt: skip

    s.act(
        "4. Power Peg: a parent order and its children",
        "Knight's Power Peg kept sending child orders after the parent was filled, because the "
        "cumulative-quantity stop had been moved away. Here children, open or filled, can never "
        "sum past their parent.",
    )
    err = gw.declare_parent(ParentOrder("P-7", "desk-7", "GOOG", BUY, 300), DESK_KEY)
    s.control(
        "declare parent P-7: buy 300 GOOG (a customer order)",
        "PARENT" if err is None else err.code.value,
        "children may total 300 shares",
    )
    for cid, qty, price in (
        ("o-401", 100, "100.01"),
        ("o-402", 120, "100.01"),
        ("o-403", 80, "100.01"),
    ):
        s.order(ACCEPTED, cid, BUY, qty, "GOOG", price, parent="P-7")
    s.order(RejectCode.PARENT_OVERFILL, "o-404", BUY, 100, "GOOG", "100.02", parent="P-7")
    s.order(RejectCode.PARENT_OVERFILL, "o-405", BUY, 10, "GOOG", "100.02", parent="P-7")

    s.act(
        "5. Position limits count open orders",
        "Knight's position limits ignored outstanding orders. desk-7 may hold 5,000 TSLA: a "
        "resting bid for 4,000 leaves room for 1,000 more, whatever has filled so far.",
    )
    s.order(ACCEPTED, "o-501", BUY, 4_000, "TSLA", "99.60", note=" (rests below the ask)")
    s.order(RejectCode.POSITION_LIMIT, "o-502", BUY, 2_000, "TSLA", "99.60")

    s.act(
        "6. Retries: idempotency keys",
        "A client times out and sends again with the same key; then it sends a different order "
        "under that key.",
    )
    s.order(ACCEPTED, "o-601", BUY, 200, "AMZN", "100.01", idempotency_key="k-601")
    s.order(ACCEPTED, "o-601", BUY, 200, "AMZN", "100.01", idempotency_key="k-601")
    s.order(RejectCode.IDEMPOTENCY_CONFLICT, "o-601", BUY, 300, "AMZN", "100.01",
            idempotency_key="k-601")  # fmt: skip

    s.act(
        "7. Kill switch",
        "Knight had no way to halt SMARS for its own aberrant activity. Here the risk officer "
        "halts account desk-7: its working orders are cancelled, new ones refused, other accounts "
        "trade on; then trading resumes.",
    )
    working = [o for o in gw.book.open_orders.values() if o.account == "desk-7"]
    gw.halt(HaltScope.ACCOUNT, "desk-7", "runaway suspected", "risk-officer")
    gw.journal.flush()
    gone = [
        f"#{o.order_id} {o.symbol} {o.side.value} {o.qty - o.filled:,}"
        for o in working
        if o.status is OrderStatus.CANCELLED
    ]
    s.control(
        "halt account desk-7 (risk-officer: runaway suspected)",
        "HALT",
        f"cancelled {len(gone)} working order(s): {', '.join(gone) or 'none'}",
    )
    s.order(RejectCode.HALTED, "o-701", BUY, 100, "XOM", "100.01")
    s.order(ACCEPTED, "m-702", BUY, 200, "XOM", "100.01", mm=True)
    resumed = gw.resume(HaltScope.ACCOUNT, "desk-7", "risk-officer")
    s.control(
        "resume account desk-7 (risk-officer)",
        "RESUME" if resumed else "NO HALT",
        "new orders are judged again",
    )
    s.order(ACCEPTED, "o-703", BUY, 100, "XOM", "100.01")
    s.order(ACCEPTED, "o-704", BUY, 1_000, "TSLA", "99.60", note=" (a resting bid)")
    s.end_act()


def _print_positions(console: Console, positions: list[PositionRow]) -> None:
    table = Table(title="Positions", show_edge=False, pad_edge=False)
    for name in ("account", "symbol", "position", "open buys", "open sells"):
        table.add_column(name, justify="left" if name in ("account", "symbol") else "right")
    for account, symbol, pos, open_buy, open_sell in positions:
        table.add_row(account, symbol, f"{pos:,}", f"{open_buy:,}", f"{open_sell:,}")
    console.print(table)


def run_demo(
    console: Console, journal_path: Path | None = None, seed: int = DEFAULT_SEED
) -> DemoResult:
    """Run the scripted session; the journal goes to `journal_path` (a new file) or a temp dir."""
    if journal_path is not None and journal_path.exists():
        raise FileExistsError(f"{journal_path} exists: the demo starts from an empty journal")
    with tempfile.TemporaryDirectory(prefix="interlock-demo-") as tmp:
        path = journal_path or Path(tmp) / "journal.db"
        path.parent.mkdir(parents=True, exist_ok=True)
        clock = DemoClock(PRE_OPEN_AT)
        h = build(
            journal=SqliteJournal(path, background=True, max_wait_s=0.001),
            clock=clock,
            seed=seed,
        )
        console.print(
            f"Interlock demo: desk-7 (an algo desk) and mm-1 (a market maker) trade through "
            f"gateway {h.gateway.instance_id} on the packaged default config. Every symbol "
            f"starts at 100.00 (bid 99.99, ask 100.01); SQLite journal {path}; seed {seed}.",
            highlight=False,
        )
        session = _Session(h, clock, console)
        try:
            _script(session)
            h.journal.flush()
            durable = h.journal.durable_seq
            positions = h.gateway.positions()
        finally:
            h.gateway.close()
    result = DemoResult(tuple(session.rows), tuple(positions), durable, journal_path)
    _print_positions(console, positions)
    console.print(result.summary(), highlight=False, soft_wrap=True)
    for row in result.surprises:
        line = (
            f"unexpected: {row.client_order_id} {row.what}: {row.decision}, expected {row.expected}"
        )
        console.print(Text(line, style="bold red"))
    return result
