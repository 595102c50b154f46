"""Exposure state: positions, reservations, P&L, parents, windows; and the `apply` side.

The gateway decides, then applies. Every mutation of risk state is one of the `apply_*`
methods below, and recovery folds the journal through the very same methods, so the
state after a restart equals the state before it.

Gross exposure of a symbol is its worst case over every way the open orders could fill:
max(|pos + open buys|, |pos - open sells|) at the mark (`risk/exposure.py`, the one
formula the checks and the fleet budget use too). An order that only reduces risk
therefore never raises it, and open orders count until filled or cancelled.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from interlock.domain.commands import ParentOrder
from interlock.domain.enums import OrderStatus, Side, TradingSession
from interlock.domain.instrument import Instrument
from interlock.domain.money import to_micros
from interlock.domain.order import Order
from interlock.risk.adv_file import merged
from interlock.risk.calendar import TradingCalendar
from interlock.risk.exposure import worst_case
from interlock.risk.limits import AccountRisk, LimitsConfig, SelfTradeMode, compile_account
from interlock.risk.locates import Locate, Locates
from interlock.risk.messages import MessageThrottle
from interlock.risk.order_to_trade import DayTallies
from interlock.risk.self_trade import CrossBook
from interlock.risk.windows import SHARED_STRATEGY, AccountWindows, RecentOrders, Throttles

_WORKING = OrderStatus.WORKING  # module constants: enum class attributes are slow on 3.11
_FILLED = OrderStatus.FILLED
_SELL_SHORT = Side.SELL_SHORT


class Position:
    """One account in one symbol: shares held, shares reserved by open orders, cash."""

    __slots__ = ("cash", "gross", "open_buy", "open_sell", "pos")

    def __init__(self) -> None:
        self.pos = 0
        self.open_buy = 0
        self.open_sell = 0
        self.cash = 0  # micros: sells add, buys subtract
        self.gross = 0  # micros: this symbol's share of the account's gross exposure


class AccountBook:
    __slots__ = ("executed", "gross", "open_notional", "pnl", "positions", "risk", "windows")

    def __init__(self, risk: AccountRisk, windows: AccountWindows) -> None:
        self.risk = risk
        self.windows = windows  # the account's own rate envelopes
        self.positions: dict[str, Position] = {}
        self.open_notional = 0  # micros of every open order, at its valuation price
        self.gross = 0  # micros, sum of Position.gross
        self.executed = 0  # micros traded today (credit usage with open_notional)
        self.pnl = 0  # micros: cash plus positions at the mark


@dataclass(slots=True)
class Reference:
    """Last reference price of a symbol and when it was observed (ns)."""

    ticks: int
    ts: int


@dataclass(slots=True)
class ParentState:
    parent: ParentOrder
    open: int = 0
    filled: int = 0


@dataclass(slots=True)
class FirmBook:
    gross: int = 0
    open_notional: int = 0


@dataclass
class Book:
    """All risk state of one gateway instance. Owned by one thread (the gateway lock).

    `calendar` is the server's trading calendar: decode takes each order's session from it.
    """

    limits: LimitsConfig
    instruments: dict[str, Instrument]
    calendar: TradingCalendar
    strategies: dict[str, frozenset[str]] = field(default_factory=dict)  # declared, per account
    accounts: dict[str, AccountBook] = field(default_factory=dict)
    refs: dict[str, Reference] = field(default_factory=dict)
    marks: dict[str, int] = field(default_factory=dict)
    holders: dict[str, set[str]] = field(default_factory=dict)
    parents: dict[str, ParentState] = field(default_factory=dict)
    orders: dict[int, Order] = field(default_factory=dict)
    open_orders: dict[int, Order] = field(default_factory=dict)
    firm: FirmBook = field(default_factory=FirmBook)
    locates: Locates = field(default_factory=Locates)
    throttles: Throttles = field(init=False)
    recent: RecentOrders = field(init=False)
    firm_gross_limit: int = field(init=False)
    market_band_bps: int = field(init=False)
    ref_max_age_ns: int = field(init=False)
    collar_bps: dict[TradingSession | None, int] = field(init=False)
    easy_to_borrow: frozenset[str] = field(init=False)
    agency_accounts: frozenset[str] = field(init=False)
    adv_max_qty: dict[str, int] = field(init=False)  # per symbol: the ADV share, in shares
    adv_shares: dict[str, int] = field(init=False)  # per symbol: the ADV in force
    adv_figures: tuple[tuple[str, int], ...] = ()  # the ADV file's, as last journaled
    adv_stale: str = ""  # why the file's figures are stale ("": fresh, or no file)
    messages: MessageThrottle = field(init=False)
    tallies: DayTallies = field(init=False)
    crossing: CrossBook = field(init=False)
    stp_cancel_oldest: bool = field(init=False)

    def __post_init__(self) -> None:
        self.firm_gross_limit = to_micros(self.limits.firm.max_gross_notional)
        self.market_band_bps = self.limits.collar.market_order_band_bps
        self.ref_max_age_ns = self.limits.collar.reference_max_age_ms * 1_000_000
        collar = self.limits.collar  # its `bps`, per session, as one dict read on the path
        self.collar_bps = {s: collar.bps(s) for s in (None, *TradingSession)}
        self.throttles = Throttles(self.limits.rates)
        self.recent = RecentOrders(self.limits.duplicate_window_ms)
        self.easy_to_borrow = self.limits.short_sale.easy_to_borrow
        self.agency_accounts = self.limits.short_sale.agency_accounts
        self.apply_adv(())
        self.messages = MessageThrottle(self.limits.messages)
        self.tallies = DayTallies(self.calendar, self.limits.order_to_trade)
        self.crossing = CrossBook(self.limits.self_trade.group_of())
        self.stp_cancel_oldest = self.limits.self_trade.mode is SelfTradeMode.CANCEL_OLDEST

    def account(self, name: str) -> AccountBook:
        a = self.accounts.get(name)
        if a is None:
            risk = compile_account(name, self.limits)
            windows = AccountWindows(
                risk, self.limits.rates, self.strategies.get(name, frozenset())
            )
            a = self.accounts[name] = AccountBook(risk, windows)
        return a

    # -- apply: the only mutations -------------------------------------------------

    def apply_adv(self, figures: tuple[tuple[str, int], ...], stale: str = "") -> None:
        """Put the ADV file's `figures` in force over the config's (risk/adv_file.py); while
        `stale` says why they are too old, no symbol has an ADV share: ADV_LIMIT refuses."""
        self.adv_figures = figures
        self.adv_stale = stale
        self.adv_shares = merged(self.limits.adv.shares, figures)
        bps = self.limits.adv.max_order_bps
        shares = {} if stale else self.adv_shares
        self.adv_max_qty = {s: adv * bps // 10_000 for s, adv in shares.items()}

    def apply_accept(self, order: Order) -> None:
        """Reserve the order's worst case and count it in every window."""
        symbol = order.symbol
        acct = self.accounts.get(order.account) or self.account(order.account)  # a C lookup
        p = acct.positions.get(symbol) or self._new_position(acct, symbol)
        qty = order.leaves = order.qty
        if order.sign > 0:
            p.open_buy += qty
        else:
            p.open_sell += qty
        notional = order.notional
        acct.open_notional += notional
        self.firm.open_notional += notional
        self._regross(acct, p, self.marks.get(symbol, 0), order.instrument.tick_micros)
        if order.parent_id is not None:
            ps = self.parents.get(order.parent_id)
            if ps is not None:
                ps.open += qty
        self.orders[order.order_id] = self.open_orders[order.order_id] = order
        now = order.ts
        if order.side is _SELL_SHORT and symbol not in self.easy_to_borrow:
            self.locates.reserve(order.order_id, order.account, symbol, qty, now)
        self.throttles.instance.stamps.append(now)
        acct.windows.record(order.strategy, symbol, notional, order.is_market, now)
        self.recent.record(duplicate_key(order), now)
        self.crossing.add(order)
        m = self.messages  # MessageThrottle.record, inline
        m.instance.stamps.append(now)
        w = m.sessions.windows.get(order.principal)
        if w is None:
            m.sessions.record(order.principal, now)
        else:
            w.stamps.append(now)
        strategy = order.strategy
        self.tallies.order(order.account, strategy if strategy in acct.windows.declared
                           else SHARED_STRATEGY, now)  # fmt: skip

    def apply_message(self, session: str, now: int) -> None:
        """A message of `session` that spent no order: a refused order (not refused for the
        throttle itself)."""
        self.messages.record(session, now)

    def apply_cancel_request(self, order: Order | None, session: str, now: int) -> None:
        """A cancel asked for: a message of `session`, and an order of the day for the
        order-to-trade ratio of the order's account and strategy."""
        self.messages.record(session, now)
        if order is not None:
            acct = self.accounts.get(order.account) or self.account(order.account)
            self.tallies.order(order.account, acct.windows.strategy_key(order.strategy), now)

    def apply_trade(self, order: Order, now: int) -> None:
        """A fill: a trade of the day for the order's account and strategy."""
        acct = self.accounts.get(order.account) or self.account(order.account)
        self.tallies.trade(order.account, acct.windows.strategy_key(order.strategy), now)

    def _new_position(self, acct: AccountBook, symbol: str) -> Position:
        """A new line for the account; remember it holds the symbol, for re-marking."""
        p = acct.positions[symbol] = Position()
        holders = self.holders.get(symbol)
        if holders is None:
            holders = self.holders[symbol] = set()
        holders.add(acct.risk.account)
        return p

    def apply_fill(self, order: Order, qty: int, price: int) -> None:
        """Move `qty` from reserved to held at `price` (ticks); update P&L and credit.

        A fill is a fact: the position takes all of it even if a venue over-fills; only
        the reservation released is capped at what was still open.
        """
        if qty <= 0:
            return
        acct = self.account(order.account)
        p = acct.positions.get(order.symbol) or self._new_position(acct, order.symbol)
        tm = order.instrument.tick_micros
        released = min(qty, order.leaves)
        self._release(acct, p, order, released)
        mark = self.marks.get(order.symbol)
        if mark is None:  # no reference yet (e.g. folding a journal): the fill is the mark
            self._mark(order.symbol, price)
            mark = price
        signed = order.sign * qty
        p.pos += signed
        p.cash -= signed * price * tm
        acct.pnl += signed * (mark - price) * tm
        acct.executed += qty * price * tm
        order.filled += qty
        order.filled_value += qty * price
        if order.side is _SELL_SHORT:
            self.locates.consume(order.order_id, qty)
        if order.leaves == 0 and order.status <= _WORKING:
            order.status = _FILLED
            if self.open_orders.pop(order.order_id, None) is not None:
                self.crossing.remove(order)
        self._regross(acct, p, mark, tm)
        if order.parent_id is not None:
            ps = self.parents.get(order.parent_id)
            if ps is not None:
                ps.open -= released
                ps.filled += qty

    def apply_done(self, order: Order, status: OrderStatus) -> int:
        """Release everything still open (cancel or venue reject); return shares released."""
        qty = order.leaves
        if qty > 0:
            acct = self.account(order.account)
            p = acct.positions[order.symbol]
            self._release(acct, p, order, qty)
            self._regross(acct, p, self.marks.get(order.symbol, 0), order.instrument.tick_micros)
            if order.parent_id is not None:
                ps = self.parents.get(order.parent_id)
                if ps is not None:
                    ps.open -= qty
        if order.status <= _WORKING:
            order.status = status
        if self.open_orders.pop(order.order_id, None) is not None:
            self.crossing.remove(order)
        if order.side is _SELL_SHORT:
            self.locates.release(order.order_id)
        return qty

    def apply_parent(self, parent: ParentOrder) -> None:
        if parent.parent_id not in self.parents:
            self.parents[parent.parent_id] = ParentState(parent)

    def apply_locate(self, locate: Locate) -> None:
        """An operator's locate, journaled (`LocateAdded`): in force until it expires."""
        self.locates.add(locate)

    def apply_reference(self, symbol: str, ticks: int, ts: int) -> None:
        """New reference price: it is also the mark for P&L and gross exposure."""
        ref = self.refs.get(symbol)
        if ref is None:
            self.refs[symbol] = Reference(ticks, ts)
        else:
            ref.ticks = ticks
            ref.ts = ts
        self._mark(symbol, ticks)

    def _mark(self, symbol: str, ticks: int) -> None:
        """Move the mark of `symbol`; re-value P&L and gross exposure of every holder."""
        old = self.marks.get(symbol)
        self.marks[symbol] = ticks
        if old == ticks:
            return
        inst = self.instruments.get(symbol)
        tm = inst.tick_micros if inst is not None else 0
        for name in self.holders.get(symbol, ()):
            acct = self.accounts[name]
            p = acct.positions[symbol]
            if old is not None:
                acct.pnl += p.pos * (ticks - old) * tm
            self._regross(acct, p, ticks, tm)

    # -- helpers -------------------------------------------------------------------

    def _release(self, acct: AccountBook, p: Position, order: Order, qty: int) -> None:
        if order.sign > 0:
            p.open_buy -= qty
        else:
            p.open_sell -= qty
        order.leaves -= qty
        notional = qty * order.value_ticks * order.instrument.tick_micros
        acct.open_notional -= notional
        self.firm.open_notional -= notional

    def _regross(self, acct: AccountBook, p: Position, mark: int, tick_micros: int) -> None:
        long, short = worst_case(p.pos, p.open_buy, p.open_sell, 0)
        new = (long if long > short else short) * mark * tick_micros
        delta = new - p.gross
        if delta:
            p.gross = new
            acct.gross += delta
            self.firm.gross += delta


def duplicate_key(order: Order) -> tuple[str, str, int, int, int, str | None]:
    """Same account, symbol, side, quantity and price, for the same parent (or none): two
    identical children of different customer orders are not duplicates of each other."""
    return (order.account, order.symbol, order.sign, order.qty, order.price, order.parent_id)


def reduces(acct: AccountBook, order: Order) -> bool:
    """True if `order` can only bring the account's position in its symbol toward flat,
    whatever the open orders do: a buy that covers part of a short net of open buys, a sale
    of part of a long net of open sales."""
    p = acct.positions.get(order.symbol)
    if p is None:
        return False
    if order.sign > 0:
        return p.pos + p.open_buy + order.qty <= 0
    return p.pos - p.open_sell - order.qty >= 0
