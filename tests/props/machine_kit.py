"""The exposure machine: a real Gateway beside a tiny model, DESIGN.md invariants after each step.

Shared by tests/props/test_exposure_machine.py (this machine over a MemoryJournal) and
tests/props/test_gateway_machine.py (a subclass with more rules, over SQLite and PostgreSQL).

Rules: submit bursts (two accounts, three symbols, both sides, market/limit, prices near
the mid, optional parents, idempotency keys from a small pool so keys repeat), pile on
(a runaway strategy resting orders one way), resubmit an earlier request verbatim (a
client retry), flush the journal (the release), move the market, pass time, cancel,
halt/resume, declare a parent, and restart: a new Gateway over the same journal object,
which must rebuild the same book.

The model is the journal itself (every appended event, durable or not), folded by a few
lines of test code that share nothing with `recovery.py`: positions are the sum of the
fills, reservations the leaves of open orders. Limits are small, so they are all reached.
Runs are derandomized (the same 60 programs every time); `--hypothesis-show-statistics`
shows which reject codes they reach.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import msgspec
from hypothesis import event
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from interlock.control.embedded import EmbeddedControlPlane
from interlock.control.plane import HaltRecord
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
from interlock.domain.events import (
    Cancelled,
    Event,
    Filled,
    OrderDecided,
    ParentDeclared,
    VenueRejected,
)
from interlock.domain.order import Order
from interlock.domain.reject import RejectCode, Rejection
from interlock.gateway.gateway import Gateway
from interlock.gateway.self_halt import LOSS_MONITOR
from interlock.journal.memory import MemoryJournal
from interlock.risk.checks.loss import loss_breached
from interlock.sim.harness import (
    DESK_KEY,
    MM_KEY,
    START_NS,
    Harness,
    ManualClock,
    build,
    config_with,
)
from interlock.venue.simulated import SimulatedVenue

SYMBOLS = ("AAPL", "MSFT", "TSLA")
ACCOUNTS = ("desk-7", "mm-1")
KEY_OF = {"desk-7": DESK_KEY, "mm-1": MM_KEY}
PRINCIPAL_OF = {DESK_KEY: "desk-7-algo", MM_KEY: "market-making"}
STRATEGIES = {"desk-7": ("vwap", "pairs"), "mm-1": ("mm", "arb")}
PARENT_IDS = ("P1", "P2", "P3")
IDEMPOTENCY_KEYS = ("k1", "k2", "k3")

CONFIG = config_with(
    firm={"max_gross_notional": "70000"},
    defaults={
        "max_order_qty": 200,
        "max_order_notional": "30000",
        "max_position": 300,
        "max_gross_notional": "45000",
        "credit_limit": "70000",
        "daily_loss_limit": "1500",
    },
    accounts={
        "desk-7": {"max_order_notional": "19000", "position_overrides": {"TSLA": 150}},
        "mm-1": {
            "credit_limit": "40000",
            "market_order_sessions": ["continuous", "opening_auction"],
        },
    },
    collar={"reference_max_age_ms": 2500},
    rates={
        "per_strategy": {"count": 6, "window_ms": 1000},
        "per_symbol": {"count": 5, "window_ms": 1000},
        "market_per_symbol": {"count": 3, "window_ms": 60000},
    },
    duplicate_window_ms=400,
)
VENUE = dict(depth=120, volatility_ticks=3)  # shallow book: partial fills, resting orders


STATS: Counter[str] = Counter()
"""Every `note` of every run in this process: rules run, outcomes, reject codes reached
(bench/gateway_machine_stats.py prints and saves them; Hypothesis's own statistics give
the share of examples each one occurred in)."""


def note(text: str) -> None:
    """A Hypothesis `event` (shown by --hypothesis-show-statistics), also counted."""
    event(text)
    STATS[text] += 1


def rare(n: int = 8) -> st.SearchStrategy[bool]:
    """True about once in `n` draws."""
    return st.integers(0, n - 1).map(lambda i: i == 0)


TIFS = (TimeInForce.DAY, TimeInForce.DAY, TimeInForce.IOC, TimeInForce.FOK, TimeInForce.GTC)
DRAFTS = st.fixed_dictionaries(
    {
        "account": st.sampled_from(ACCOUNTS),
        "strategy": st.integers(0, 1),
        "symbol": st.sampled_from(SYMBOLS),
        "side": st.sampled_from([Side.BUY, Side.BUY, Side.SELL, Side.SELL_SHORT]),
        "qty": st.sampled_from([1, 40, 100, 100, 150, 150, 200, 200, 260]),  # 260: too many
        "market": rare(4),
        "offset": st.integers(-3, 3) | st.integers(-700, 700),  # ticks from the mid
        "tif": st.sampled_from(TIFS),
        "auction": rare(6),
        "parent": st.sampled_from((*[None] * 5, 0, 1, 2, 3)),  # 0: a parent never declared
        "follow": st.integers(0, 3).map(bool),  # mostly a child that matches the parent
        "key": st.sampled_from((*[None] * 6, *IDEMPOTENCY_KEYS)),
        "wrong_key": rare(12),
    }
)
PARENTS = st.fixed_dictionaries(
    {
        "parent_id": st.sampled_from(PARENT_IDS),
        "account": st.sampled_from(ACCOUNTS),
        "symbol": st.sampled_from(SYMBOLS),
        "side": st.sampled_from([Side.BUY, Side.SELL]),
        "qty": st.sampled_from([1, 40, 100, 150, 250]),
    }
)
BURST = st.lists(st.tuples(DRAFTS, rare(3)), min_size=1, max_size=8)  # (order, flush after?)


class RecordingJournal(MemoryJournal):
    """MemoryJournal that also keeps every appended event, durable or not (the model)."""

    def __init__(self) -> None:
        super().__init__()
        self.log: list[Event] = []

    def append(self, event: Event) -> int:
        seq = super().append(event)
        self.log.append(event)
        assert seq == len(self.log)
        return seq


@dataclass
class ModelOrder:
    account: str
    symbol: str
    sign: int
    parent_id: str | None
    leaves: int
    filled: int = 0
    open: bool = True


def fold(events: list[Event]) -> tuple[dict[int, ModelOrder], dict[str, ParentOrder]]:
    """Orders and parents as the journal tells it: fills, cancels and venue rejects."""
    orders: dict[int, ModelOrder] = {}
    parents: dict[str, ParentOrder] = {}
    for ev in events:
        if isinstance(ev, OrderDecided) and ev.order_id is not None:
            req = ev.request
            assert req is not None
            orders[ev.order_id] = ModelOrder(
                req.account, req.symbol, Side(req.side).sign, req.parent_id, req.quantity
            )
        elif isinstance(ev, Filled):
            o = orders[ev.order_id]
            o.filled += ev.qty
            o.leaves -= min(ev.qty, o.leaves)
            o.open = o.open and o.leaves > 0
        elif isinstance(ev, Cancelled | VenueRejected):
            o = orders[ev.order_id]
            o.leaves, o.open = 0, False
        elif isinstance(ev, ParentDeclared):
            parents.setdefault(ev.parent.parent_id, ev.parent)
    return orders, parents


def covers(h: HaltRecord, order: Order, instance_id: str) -> bool:
    target = {
        HaltScope.GLOBAL: "",
        HaltScope.INSTANCE: instance_id,
        HaltScope.ACCOUNT: order.account,
        HaltScope.STRATEGY: order.strategy,
        HaltScope.SYMBOL: order.symbol,
    }[h.scope]
    return h.target == target


def book_state(gw: Gateway, *, marks: bool) -> dict[str, Any]:
    """Everything a restart must rebuild; `marks` adds what depends on the mark prices."""
    b = gw.book
    t = b.throttles
    accounts = {a: acct for a, acct in b.accounts.items() if acct.positions}  # not just looked at
    state: dict[str, Any] = {
        "positions": {
            (a, s): (p.pos, p.open_buy, p.open_sell, p.cash)
            for a, acct in accounts.items()
            for s, p in acct.positions.items()
        },
        "accounts": {a: (acct.open_notional, acct.executed) for a, acct in accounts.items()},
        "firm_open": b.firm.open_notional,
        "orders": {
            oid: (o.status, o.qty, o.leaves, o.filled, o.price, o.value_ticks, o.parent_id)
            for oid, o in b.orders.items()
        },
        "open": sorted(b.open_orders),
        "parents": {pid: (ps.parent, ps.open, ps.filled) for pid, ps in b.parents.items()},
        "halts": sorted((h.scope.value, h.target) for h in gw.halts.records()),
        "keys": len(gw.state.keys),
        "rates": (
            list(t.instance.stamps),
            {
                a: (
                    list(acct.windows.orders_s.stamps),
                    list(acct.windows.orders_min.stamps),
                    list(acct.windows.notional_s.stamps),
                    list(acct.windows.notional_s.amounts),
                    list(acct.windows.notional_min.stamps),
                    list(acct.windows.notional_min.amounts),
                    {k: list(w.stamps) for k, w in acct.windows.strategy.windows.items()},
                    {k: list(w.stamps) for k, w in acct.windows.symbol.windows.items()},
                    {k: list(w.stamps) for k, w in acct.windows.market_symbol.windows.items()},
                )
                for a, acct in accounts.items()
            },
        ),
        "recent": dict(b.recent.last),
        "messages": (
            list(b.messages.instance.stamps),
            {k: list(w.stamps) for k, w in b.messages.sessions.windows.items()},
        ),
        "order_to_trade": (
            b.tallies.start,
            {a: (x.orders, x.trades) for a, x in b.tallies.accounts.items()},
            {
                (a, k): (x.orders, x.trades)
                for a, by in b.tallies.strategies.items()
                for k, x in by.items()
            },
        ),
        "self_trade": {
            (g, s, side): (sorted(lv[side].items()), lv[side + 1])
            for g, by_symbol in b.crossing.levels.items()
            for s, lv in by_symbol.items()
            for side in (0, 2)  # buys, sells (risk/self_trade.py)
            if lv[side]
        },
    }
    if marks:
        state["pnl"] = {a: acct.pnl for a, acct in accounts.items()}
        state["gross"] = (
            b.firm.gross,
            {(a, s): p.gross for a, acct in accounts.items() for s, p in acct.positions.items()},
        )
    return state


class ExposureMachine(RuleBasedStateMachine):
    venue_class: type[SimulatedVenue] = SimulatedVenue  # a subclass may script its venue

    def __init__(self) -> None:
        super().__init__()
        self.clock = ManualClock(START_NS)
        self.journal = RecordingJournal()
        self.sent: dict[int, int] = {}  # order id -> durable seq when the venue got it
        self.breaches: list[str] = []  # of invariant 2, seen at the venue port
        self.keys: dict[tuple[str, str], tuple[OrderRequest, Decision]] = {}
        self.requests: list[tuple[str, OrderRequest]] = []
        self.acks: list[tuple[int, list[Decision]]] = []  # (seq that must be durable, acked)
        self.restarts = 0
        self.n = 0

    # -- wiring ------------------------------------------------------------------------

    @initialize(seed=st.integers(0, 2**16), parents=st.lists(PARENTS, max_size=3), drafts=BURST)
    def start(
        self, seed: int, parents: list[dict[str, Any]], drafts: list[tuple[dict[str, Any], bool]]
    ) -> None:
        self.seed = seed
        self.h = build(CONFIG, journal=self.journal, clock=self.clock, seed=seed,
                       venue_class=self.venue_class, **VENUE)  # fmt: skip
        self._guard(self.h.venue)
        for parent in parents:
            self.declare_parent(**parent)
        self.submit(drafts)

    def _guard(self, venue: SimulatedVenue) -> None:
        """Invariant 2 at the port: what reaches the venue is durable and released, once."""
        send = venue.send

        def guarded_send(order: Order) -> None:
            """Breaches are kept, not raised: the gateway takes an exception out of `send`
            for a venue fault (and venue-rejects the order), which would hide them."""
            if not (order.seq > 0 and self.journal.durable_seq >= order.seq):
                self.breaches.append(f"order {order.order_id} (seq {order.seq}) sent while "
                                     f"durable seq is {self.journal.durable_seq}")  # fmt: skip
            if order.status is not OrderStatus.RELEASING:  # being handed over, and only that
                self.breaches.append(f"order {order.order_id} sent in status {order.status!r}")
            if order.order_id in self.sent:
                self.breaches.append(f"order {order.order_id} sent twice")
            self.sent[order.order_id] = self.journal.durable_seq
            send(order)

        venue.send = guarded_send  # type: ignore[method-assign]

    def _reconnect(self, old: Harness) -> Harness:
        """A new gateway and control plane over the same journal, venue and market: a real
        venue outlives a gateway restart and reports later fills to the new session."""
        old.market.unsubscribe(old.gateway.update_reference)  # the old one hears no more
        plane = EmbeddedControlPlane(clock=self.clock)
        gw = Gateway(CONFIG, self.journal, old.venue, plane, clock=self.clock)
        old.venue.attach(gw)
        old.market.subscribe(gw.update_reference)
        gw.start()
        return Harness(gw, self.journal, old.venue, old.market, plane, self.clock)

    def _flush_all(self) -> None:
        """Flush until nothing is left in flight (releases append fills, which need another)."""
        while self.journal.durable_seq < self.journal.last_seq:
            self.journal.flush()

    # -- rules -------------------------------------------------------------------------

    @rule(drafts=BURST)
    def submit(self, drafts: list[tuple[dict[str, Any], bool]]) -> None:
        """A burst of orders; some are made durable (released) before the next one."""
        note("rule: submit")
        for draft, then_flush in drafts:
            self._submit(*self._request(**draft))
            if then_flush:
                self.journal.flush()

    def _request(
        self, account: str, strategy: int, symbol: str, side: Side, qty: int, market: bool,
        offset: int, tif: TimeInForce, auction: bool, parent: int | None, follow: bool,
        key: str | None, wrong_key: bool,
    ) -> tuple[str, OrderRequest]:  # fmt: skip
        parent_id = None
        if parent is not None:
            declared = sorted(self.h.gateway.book.parents)
            parent_id = declared[parent % len(declared)] if declared and parent else "P-ghost"
            ps = self.h.gateway.book.parents.get(parent_id)
            if ps is not None and follow:  # a child that matches its parent
                account, symbol, side = ps.parent.account, ps.parent.symbol, ps.parent.side
        price = None
        if not market:
            inst = self.h.gateway.instruments[symbol]
            price = inst.to_price(max(1, self.h.market.mid(symbol) + offset))
        self.n += 1
        request = OrderRequest(
            f"c{self.n}", account, STRATEGIES[account][strategy], symbol, side, qty,
            OrderType.MARKET if market else OrderType.LIMIT, price, tif,
            TradingSession.OPENING_AUCTION if auction else None,  # the clock: continuous
            parent_id, key,
        )  # fmt: skip
        api_key = KEY_OF[account]
        if wrong_key:
            api_key = KEY_OF["mm-1" if account == "desk-7" else "desk-7"]
        return api_key, request

    @rule(
        account=st.sampled_from(ACCOUNTS),
        symbol=st.sampled_from(SYMBOLS),
        side=st.sampled_from([Side.BUY, Side.SELL]),
        qtys=st.lists(st.sampled_from([40, 100, 150, 200]), min_size=2, max_size=5),
    )
    def pile_on(self, account: str, symbol: str, side: Side, qtys: list[int]) -> None:
        """A runaway strategy: passive orders one way, each a tick further from the touch,
        so they all rest and their reservations add up against the limits."""
        note("rule: pile_on")
        inst = self.h.gateway.instruments[symbol]
        mid = self.h.market.mid(symbol)
        for i, qty in enumerate(qtys, start=2):
            self.n += 1
            ticks = mid - i if side is Side.BUY else mid + i
            request = OrderRequest(
                f"c{self.n}", account, STRATEGIES[account][0], symbol, side, qty,
                limit_price=inst.to_price(ticks),
            )  # fmt: skip
            self._submit(KEY_OF[account], request)

    @precondition(lambda self: self.requests)
    @rule(pick=st.integers(0, 2**16))
    def resubmit(self, pick: int) -> None:
        """A client retry: the very same request, usually with its idempotency key."""
        note("rule: resubmit")
        keyed = [r for r in self.requests if r[1].idempotency_key is not None] or self.requests
        self._submit(*keyed[pick % len(keyed)])

    def _submit(self, api_key: str, request: OrderRequest) -> Decision:
        gw, book = self.h.gateway, self.h.gateway.book
        before = book.accounts.get(request.account)
        gross_before = 0 if before is None else before.gross
        firm_before = book.firm.gross
        line = before.positions.get(request.symbol) if before is not None else None
        pos, open_buy, open_sell = (line.pos, line.open_buy, line.open_sell) if line else (0, 0, 0)
        qty = request.quantity if isinstance(request.quantity, int) else 0
        reducing = (  # can only bring the position toward flat, whatever the open orders do
            pos + open_buy + qty <= 0 if request.side is Side.BUY else pos - open_sell - qty >= 0
        ) and line is not None
        acked: list[Decision] = []

        def on_ack(decision: Decision) -> None:
            assert self.journal.durable_seq >= decision.seq, "acked before durable"
            acked.append(decision)

        decision = gw.submit(request, api_key, on_ack)
        self.requests.append((api_key, request))
        self.acks.append((decision.seq, acked))
        self._check_idempotency(api_key, request, decision)
        note(f"submit: {'replayed ' if decision.replayed else ''}{decision.code or 'ACCEPTED'}")
        if request.parent_id is not None:
            note(f"child: {decision.code or 'ACCEPTED'}")
        if not decision.accepted or decision.replayed:
            return decision
        order = book.orders[decision.order_id]  # type: ignore[index]
        acct = book.accounts[order.account]
        risk = acct.risk
        assert order.qty <= risk.max_order_qty
        assert order.notional <= risk.max_order_notional
        if acct.gross > gross_before:  # invariant 1: an increase stays under the limit
            assert acct.gross <= risk.max_gross, (acct.gross, risk.max_gross)
        if book.firm.gross > firm_before:
            assert book.firm.gross <= book.firm_gross_limit
        assert acct.executed + acct.open_notional <= risk.credit_limit
        covering = [h for h in self.h.plane.halts() if covers(h, order, gw.instance_id)]
        through_loss_halt = (  # limits.loss_halt_allows_reducing: a reducing order may pass
            CONFIG.limits.loss_halt_allows_reducing
            and reducing
            and all(h.who == LOSS_MONITOR and h.target == order.account for h in covering)
        )
        assert not covering or through_loss_halt, f"accepted while halted: {covering}"
        return decision

    def _check_idempotency(self, api_key: str, request: OrderRequest, d: Decision) -> None:
        """Invariant 7 against a dict of first decisions per (principal, key)."""
        key = request.idempotency_key
        if key is None or d.code is RejectCode.UNAUTHENTICATED:
            return  # nothing to bind: the caller was not who it said
        principal = PRINCIPAL_OF[api_key]
        first = self.keys.get((principal, key))
        if first is None:
            assert not d.replayed
            self.keys[(principal, key)] = (request, d)
            return
        first_request, first_decision = first
        unkeyed = {"idempotency_key": None}
        if msgspec.structs.replace(first_request, **unkeyed) == msgspec.structs.replace(
            request, **unkeyed
        ):
            assert d.replayed
            assert (d.order_id, d.rejection, d.seq) == (
                first_decision.order_id, first_decision.rejection, first_decision.seq,
            )  # fmt: skip
        else:
            assert d.code is RejectCode.IDEMPOTENCY_CONFLICT, d.message

    @precondition(lambda self: self.journal.durable_seq < self.journal.last_seq)
    @rule()
    def flush(self) -> None:
        note("rule: flush")
        self.journal.flush()

    @rule(
        symbol=st.sampled_from(SYMBOLS),
        mid=st.none() | st.integers(9_000, 11_000),
        steps=st.integers(1, 3),
    )
    def move_market(self, symbol: str, mid: int | None, steps: int) -> None:
        """Jump one mid to a chosen price, or random-walk them all; resting orders fill."""
        note("rule: move_market")
        if mid is None:
            self.h.market.step(steps)
        else:
            self.h.market.set_mid(symbol, mid)

    @rule(ms=st.integers(1, 1_500), refresh=st.booleans())
    def pass_time(self, ms: int, refresh: bool) -> None:
        note("rule: pass_time")
        self.clock.advance_ms(ms)
        assert self.h.gateway.heartbeat()  # within the lease TTL: renewal must succeed
        if refresh:
            self.h.refresh_references()

    @precondition(lambda self: self.h.gateway.book.open_orders)
    @rule(pick=st.integers(0, 2**16), wrong_key=rare(8))
    def cancel(self, pick: int, wrong_key: bool) -> None:
        order, rejection = self._cancel_one(pick, wrong_key)
        if not wrong_key:  # pending: cancelled in place; working: the venue confirms at once
            assert rejection is None
            assert order.order_id not in self.h.gateway.book.open_orders

    def _cancel_one(self, pick: int, wrong_key: bool) -> tuple[Order, Rejection | None]:
        """Cancel the open order `pick` chooses, with its own key or (`wrong_key`) the other
        account's, which must read as an unknown id and cancel nothing; the order and the
        gateway's answer, for the caller's own checks of a right-key cancel."""
        note("rule: cancel")
        book = self.h.gateway.book
        open_ids = sorted(book.open_orders)
        order = book.orders[open_ids[pick % len(open_ids)]]
        other = "mm-1" if order.account == "desk-7" else "desk-7"
        rejection = self.h.gateway.cancel(
            order.order_id, KEY_OF[other if wrong_key else order.account]
        )
        if wrong_key:  # another account's order reads as an unknown id
            assert rejection is not None and rejection.code is RejectCode.ORDER_NOT_FOUND
            assert order.order_id in book.open_orders
        return order, rejection

    @rule(
        put=rare(3),
        scope=st.sampled_from([HaltScope.ACCOUNT, HaltScope.SYMBOL]),
        account=st.sampled_from(ACCOUNTS),
        symbol=st.sampled_from(SYMBOLS),
        pick=st.integers(0, 2**16),
    )
    def kill_switch(self, put: bool, scope: HaltScope, account: str, symbol: str,
                    pick: int) -> None:  # fmt: skip
        """Halt an account or a symbol (now and then), or lift a halt in force."""
        note("rule: kill_switch")
        halts = sorted(self.h.plane.halts(), key=lambda h: h.key)
        if put:
            target = account if scope is HaltScope.ACCOUNT else symbol
            self.h.gateway.halt(scope, target, "property test", "ops")
        elif halts:
            h = halts[pick % len(halts)]
            assert self.h.gateway.resume(h.scope, h.target, "ops")

    @rule(parent=PARENTS)
    def declare(self, parent: dict[str, Any]) -> None:
        note("rule: declare")
        self.declare_parent(**parent)

    def declare_parent(self, parent_id: str, account: str, symbol: str, side: Side,
                       qty: int) -> None:  # fmt: skip
        parent = ParentOrder(parent_id, account, symbol, side, qty)
        known = self.h.gateway.book.parents.get(parent_id)
        last_seq = self.journal.last_seq
        rejection = self.h.gateway.declare_parent(parent, KEY_OF[account])
        if known is None:
            assert rejection is None
        elif known.parent == parent:  # the same declaration again: accepted, nothing new
            assert rejection is None and self.journal.last_seq == last_seq
        else:  # a parent id names one parent for good
            assert rejection is not None and rejection.code is RejectCode.PARENT_CONFLICT
            assert self.journal.last_seq == last_seq

    @precondition(lambda self: len(self.requests) > 4 * self.restarts)
    @rule(fresh_venue=rare(3))
    def restart(self, fresh_venue: bool) -> None:
        """Stop cleanly and start a new gateway over the same journal object.

        fresh_venue: the venue cancels on disconnect and a new one (a new `build`) is used;
        otherwise the same venue and market stay and report to the new gateway.
        """
        note("rule: restart")
        old = self.h
        self._flush_all()
        if fresh_venue:
            for oid in old.venue.open_order_ids():
                old.venue.cancel(oid)
            self._flush_all()
        before = book_state(old.gateway, marks=not fresh_venue)
        if fresh_venue:
            seed = self.seed + self.restarts + 1
            self.h = build(CONFIG, journal=self.journal, clock=self.clock, seed=seed,
                           start=False, venue_class=self.venue_class, **VENUE)  # fmt: skip
            self._guard(self.h.venue)
            self.h.gateway.start()
        else:
            self.h = self._reconnect(old)
        self.restarts += 1
        note(f"restart with {'some' if before['open'] else 'no'} open orders")
        rebuilt = book_state(self.h.gateway, marks=False)  # the journal's, before any price
        assert rebuilt == {k: v for k, v in before.items() if k not in ("pnl", "gross")}
        self.h.refresh_references()
        gw = self.h.gateway
        halted_again = {h.target for h in gw.halts.records() if h.who == LOSS_MONITOR}
        halted_again -= {target for _, target in before["halts"]}
        for account in halted_again:  # a person's resume of a loss halt is not journaled:
            assert loss_breached(gw.book.accounts[account])  # past the limit: halted again
        if not halted_again:  # (which cancels its orders: no longer the state before)
            assert book_state(gw, marks=not fresh_venue) == before

    # -- invariants --------------------------------------------------------------------

    @invariant()
    def worst_case_positions_within_limits(self) -> None:
        """Invariant 1 (one instance): position plus open orders, either way, <= limit."""
        for acct in self.h.gateway.book.accounts.values():
            for symbol, p in acct.positions.items():
                limit = acct.risk.position_limit(symbol)
                assert p.open_buy >= 0 and p.open_sell >= 0
                assert p.pos + p.open_buy <= limit, (acct.risk.account, symbol, p.pos)
                assert p.open_sell - p.pos <= limit, (acct.risk.account, symbol, p.pos)

    @invariant()
    def only_durable_released_orders_reach_the_venue(self) -> None:
        """Invariant 2: pending means not yet durable; the venue holds only working orders,
        the same ones the book thinks are working, with the same leaves."""
        assert self.breaches == []
        book, venue = self.h.gateway.book, self.h.venue
        durable = self.journal.durable_seq
        for order in book.open_orders.values():
            if order.status is OrderStatus.PENDING:
                assert order.seq > durable, f"order {order.order_id} durable but not released"
                assert order.order_id not in self.sent
        working = {
            o.order_id: o.leaves
            for o in book.open_orders.values()
            if o.status is OrderStatus.WORKING
        }
        assert {oid: venue.leaves(oid) for oid in venue.open_order_ids()} == working

    @invariant()
    def every_durable_decision_was_acked(self) -> None:
        durable = self.journal.durable_seq
        for seq, acked in self.acks:
            assert len(acked) == (1 if seq <= durable else 0), (seq, durable, acked)

    @invariant()
    def book_equals_the_journal_fold(self) -> None:
        """Positions are the sum of the journal's fills; reservations the open leaves."""
        gw = self.h.gateway
        log = self.journal.log
        assert [ev for _, ev in self.journal.read()] == log[: self.journal.durable_seq]
        orders, _ = fold(log)
        assert set(orders) == set(gw.book.orders)
        pos: dict[tuple[str, str], list[int]] = {}
        for oid, m in orders.items():
            o = gw.book.orders[oid]
            assert (o.leaves, o.filled, oid in gw.book.open_orders) == (m.leaves, m.filled, m.open)
            line = pos.setdefault((m.account, m.symbol), [0, 0, 0])
            line[0] += m.sign * m.filled
            line[1 if m.sign > 0 else 2] += m.leaves
        for a, acct in gw.book.accounts.items():
            for s, p in acct.positions.items():
                assert [p.pos, p.open_buy, p.open_sell] == pos.get((a, s), [0, 0, 0]), (a, s)

    @invariant()
    def children_never_exceed_their_parent(self) -> None:
        """Invariant 5, in the book and recomputed from the journal's fills."""
        book = self.h.gateway.book
        orders, parents = fold(self.journal.log)
        for pid, parent in parents.items():
            ps = book.parents[pid]
            assert ps.parent == parent
            children = [m for m in orders.values() if m.parent_id == pid]
            filled = sum(m.filled for m in children)
            leaves = sum(m.leaves for m in children)
            assert (ps.filled, ps.open) == (filled, leaves)
            assert filled + leaves <= parent.quantity, (pid, filled, leaves, parent.quantity)

    @invariant()
    def no_open_order_is_covered_by_a_halt(self) -> None:
        """A halt cancels every open order it covers when applied; what is open under one
        since can only be a reducing order its account's loss halt let through (`submit`
        checks that it reduced, limits.loss_halt_allows_reducing)."""
        gw = self.h.gateway
        for h in self.h.plane.halts():
            if h.who == LOSS_MONITOR and CONFIG.limits.loss_halt_allows_reducing:
                continue
            for order in gw.book.open_orders.values():
                assert not covers(h, order, gw.instance_id), (h, order.order_id)
