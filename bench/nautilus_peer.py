"""NautilusTrader 1.221's pre-trade risk engine, built to judge Interlock's benchmark orders.

`NautilusPeer` wires the engines the way NautilusTrader's own unit tests do (one
MessageBus, Cache and Portfolio; `RiskEngine` in front of `ExecutionEngine`, which routes to
its `MockExecutionClient`), with one venue `SIM`, one account on it, and an `Equity` per
Interlock symbol. The limits NautilusTrader has an equivalent for are read from the same
`GatewayConfig` Interlock runs with, so both sides judge against the same figures:

    Interlock                       NautilusTrader
    max_order_qty                   Equity.max_quantity (quantity check)
    max_order_notional              RiskEngineConfig.max_notional_per_order (per instrument)
    credit_limit                    the cash account's free balance
    UNKNOWN_SYMBOL                  "Instrument for ... not found"
    SCHEMA_INVALID (off tick)       price precision check

Rate limits are raised out of reach on both sides (`max_order_submit_rate`: its default,
100 per second, denies a tight loop). Needs the `peers` extra (`nautilus_trader`).
"""

from __future__ import annotations

from decimal import Decimal

from nautilus_trader.cache.cache import Cache
from nautilus_trader.common.component import LiveClock, MessageBus
from nautilus_trader.core.uuid import UUID4
from nautilus_trader.execution.config import ExecEngineConfig
from nautilus_trader.execution.engine import ExecutionEngine
from nautilus_trader.execution.messages import SubmitOrder
from nautilus_trader.model.currencies import USD
from nautilus_trader.model.enums import AccountType, OrderSide, OrderStatus, TimeInForce
from nautilus_trader.model.events import AccountState
from nautilus_trader.model.identifiers import (
    AccountId,
    ClientId,
    ClientOrderId,
    InstrumentId,
    StrategyId,
    Symbol,
    TraderId,
    Venue,
)
from nautilus_trader.model.instruments import Equity
from nautilus_trader.model.objects import AccountBalance, MarginBalance, Money, Price, Quantity
from nautilus_trader.model.orders import LimitOrder
from nautilus_trader.portfolio.portfolio import Portfolio
from nautilus_trader.risk.config import RiskEngineConfig
from nautilus_trader.risk.engine import RiskEngine
from nautilus_trader.test_kit.mocks.exec_clients import MockExecutionClient

from interlock.domain.commands import OrderRequest
from interlock.domain.enums import OrderType, Side
from interlock.domain.enums import TimeInForce as InterlockTif
from interlock.gateway.config import GatewayConfig

VENUE = "SIM"
SUBMIT_RATE = "100000000/00:00:01"  # out of reach, as Interlock's bench rates are
ACCEPTED = "ACCEPTED"  # the outcome of an order that reached the execution client
NOT_ROUTED = "NOT_ROUTED"  # neither denied nor sent on
CHECKS = (
    "instrument_exists",
    "price_precision",
    "price_positive",
    "quantity_precision",
    "max_quantity",
    "gtd_expiry",
    "max_notional_per_order",
    "free_balance",
    "cum_notional_vs_free_balance",
    "trading_state",
    "submit_rate_throttle",
)
"""What `RiskEngine.execute` checks on a plain SubmitOrder of a limit order on a cash
account (its `_handle_submit_order`, `_check_order`, `_check_orders_risk`,
`_execution_gateway`); with `bypass=True` it checks none of them."""
MARGIN_SKIPS = ("max_notional_per_order", "free_balance", "cum_notional_vs_free_balance")
"""Skipped on a margin account: `_check_orders_risk` returns True before any of them."""

_TIF = {InterlockTif.DAY: TimeInForce.DAY, InterlockTif.IOC: TimeInForce.IOC,
        InterlockTif.FOK: TimeInForce.FOK, InterlockTif.GTC: TimeInForce.GTC,
        InterlockTif.AT_THE_OPEN: TimeInForce.AT_THE_OPEN}  # fmt: skip
# NautilusTrader has no short-sale marking: a sale is a SELL whether or not it is short
_SIDE = {Side.BUY: OrderSide.BUY, Side.SELL: OrderSide.SELL, Side.SELL_SHORT: OrderSide.SELL}


class NautilusPeer:
    """One NautilusTrader risk + execution engine pair on a mock client, one account."""

    def __init__(
        self,
        config: GatewayConfig,
        *,
        account_type: AccountType = AccountType.CASH,
        bypass: bool = False,
    ) -> None:
        limits = config.limits.defaults
        self.clock = LiveClock()
        self.trader = TraderId("BENCH-001")
        self.strategy = StrategyId("MM-001")
        self.msgbus = MessageBus(trader_id=self.trader, clock=self.clock)
        self.cache = Cache(database=None)
        self.portfolio = Portfolio(msgbus=self.msgbus, cache=self.cache, clock=self.clock)
        self.exec_engine = ExecutionEngine(
            msgbus=self.msgbus, cache=self.cache, clock=self.clock, config=ExecEngineConfig()
        )
        venue = Venue(VENUE)
        max_qty = Quantity.from_int(limits.max_order_qty) if limits.max_order_qty else None
        for symbol, inst in config.instrument_map().items():
            self.cache.add_instrument(_equity(symbol, inst.tick_size, max_qty))
        notional = limits.max_order_notional
        per_order = {} if notional is None else {
            f"{s}.{VENUE}": int(notional) for s in config.instrument_map()
        }  # fmt: skip
        self.risk = RiskEngine(
            portfolio=self.portfolio, msgbus=self.msgbus, cache=self.cache, clock=self.clock,
            config=RiskEngineConfig(bypass=bypass, max_order_submit_rate=SUBMIT_RATE,
                                    max_notional_per_order=per_order),
        )  # fmt: skip
        self.client = MockExecutionClient(
            client_id=ClientId(VENUE), venue=venue, account_type=account_type,
            base_currency=USD, msgbus=self.msgbus, cache=self.cache, clock=self.clock,
        )  # fmt: skip
        self.exec_engine.register_client(self.client)
        balance = int(limits.credit_limit) if limits.credit_limit is not None else 10**12
        self.portfolio.update_account(_account_state(account_type, balance))
        self.checks: tuple[str, ...] = () if bypass else CHECKS
        if account_type == AccountType.MARGIN and not bypass:
            self.checks = tuple(c for c in CHECKS if c not in MARGIN_SKIPS)

    def command(self, req: OrderRequest) -> SubmitOrder:
        """The SubmitOrder a NautilusTrader strategy would send for `req` (a limit order);
        built outside any timer, as Interlock's OrderRequest is."""
        if req.order_type is not OrderType.LIMIT or req.limit_price is None:
            raise ValueError(f"{req.client_order_id}: only limit orders have a peer order")
        order = LimitOrder(
            trader_id=self.trader, strategy_id=self.strategy,
            instrument_id=InstrumentId(Symbol(req.symbol), Venue(VENUE)),
            client_order_id=ClientOrderId(req.client_order_id), order_side=_SIDE[req.side],
            quantity=Quantity.from_int(req.quantity), price=Price.from_str(str(req.limit_price)),
            init_id=UUID4(), ts_init=0, time_in_force=_TIF[req.time_in_force],
        )  # fmt: skip
        return SubmitOrder(trader_id=self.trader, strategy_id=self.strategy, order=order,
                           command_id=UUID4(), ts_init=0)  # fmt: skip

    def outcomes(self, commands: list[SubmitOrder]) -> list[str]:
        """Per command: ACCEPTED if it reached the execution client; else the denial
        reason without its figures (NautilusTrader's reasons are free text, some with a
        code); NOT_ROUTED if it was neither denied nor sent (the ExecutionEngine only logs
        an error for an unknown instrument when the risk engine is bypassed)."""
        sent = {c.order.client_order_id for c in self.client.commands}
        out = []
        for command in commands:
            order = command.order
            if order.client_order_id in sent:
                out.append(ACCEPTED)
            elif order.status == OrderStatus.DENIED:
                reason: str = order.last_event.reason
                head = reason.split(":")[0] if ":" in reason else reason.split(" (")[0]
                out.append(" ".join(w for w in head.split() if not any(c.isdigit() for c in w)))
            else:
                out.append(NOT_ROUTED)
        return out

    @property
    def sent(self) -> int:
        """Commands the mock execution client received."""
        return len(self.client.commands)


def _equity(symbol: str, tick: Decimal, max_qty: Quantity | None) -> Equity:
    precision = max(0, -int(tick.as_tuple().exponent))
    return Equity(
        instrument_id=InstrumentId(Symbol(symbol), Venue(VENUE)), raw_symbol=Symbol(symbol),
        currency=USD, price_precision=precision, price_increment=Price(tick, precision),
        lot_size=Quantity.from_int(1), max_quantity=max_qty, ts_event=0, ts_init=0,
    )  # fmt: skip


def _account_state(account_type: AccountType, balance: int) -> AccountState:
    money = Money(balance, USD)
    margins = []
    if account_type == AccountType.MARGIN:
        margins = [MarginBalance(Money(0, USD), Money(0, USD), InstrumentId.from_str("S000.SIM"))]
    return AccountState(
        account_id=AccountId(f"{VENUE}-001"), account_type=account_type, base_currency=USD,
        reported=True, balances=[AccountBalance(money, Money(0, USD), money)], margins=margins,
        info={}, event_id=UUID4(), ts_event=0, ts_init=0,
    )  # fmt: skip
