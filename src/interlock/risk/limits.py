"""The limits model: validated once at load (pydantic), compiled to integers for the order path.

Every limit lives here and only here. Money is given in currency units at the edge
(TOML strings or numbers) and compiled to micros; rates are counts per window.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal
from enum import Enum, StrEnum
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    model_validator,
)

from interlock.domain.enums import TradingSession
from interlock.domain.money import to_micros


def _exact_money(value: object) -> object:
    """Money is a decimal string or an integer: a float has already lost the exact amount,
    and a boolean is a typo (pydantic would read `true` as 1)."""
    if isinstance(value, bool | float):
        raise ValueError(
            "money must be a decimal string or an integer, not " + type(value).__name__
        )
    return value


# Integers are strict: `max_position = true` or `"500"` is refused, never read as 1 or 500.
Money = Annotated[Decimal, BeforeValidator(_exact_money), Field(ge=0, decimal_places=6)]
Bps = Annotated[StrictInt, Field(ge=0, le=100_000)]
CollarBps = Annotated[StrictInt, Field(gt=0, le=100_000)]  # 0 bps would refuse every price
Shares = Annotated[StrictInt, Field(gt=0)]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RateLimit(_Model):
    count: StrictInt = Field(gt=0, description="orders allowed inside one window")
    window_ms: StrictInt = Field(gt=0, description="sliding window length in milliseconds")


class RateLimits(_Model):
    """Envelopes keyed so that no caller can spend another's quota or open a fresh window
    by naming something new: every window but the instance's belongs to one account, and a
    strategy name no API key declares for that account shares the account's '*' window."""

    per_instance: RateLimit = Field(
        RateLimit(count=200, window_ms=1_000), description="accepted orders per gateway instance"
    )
    per_strategy: RateLimit = Field(
        RateLimit(count=100, window_ms=1_000),
        description="accepted orders per account and strategy (undeclared names share one)",
    )
    per_symbol: RateLimit = Field(
        RateLimit(count=20, window_ms=1_000), description="accepted orders per account and symbol"
    )
    market_per_symbol: RateLimit = Field(
        RateLimit(count=60, window_ms=60_000),
        description="accepted market orders per account and symbol",
    )


class CollarLimits(_Model):
    pre_open_bps: CollarBps = Field(
        1_000, description="collar in the pre-open session, basis points"
    )
    opening_auction_bps: CollarBps = Field(1_000, description="collar for opening-auction orders")
    continuous_bps: CollarBps = Field(500, description="collar in continuous trading")
    reference_max_age_ms: StrictInt = Field(
        5_000, gt=0, description="a reference price older than this rejects the order"
    )
    market_order_band_bps: Bps = Field(
        500, description="market orders are valued at the reference price plus this band"
    )

    def bps(self, session: TradingSession | None) -> int:
        """The collar of `session`; with none (market closed) the tightest of them."""
        if session is None:
            return min(self.pre_open_bps, self.opening_auction_bps, self.continuous_bps)
        if session is TradingSession.CONTINUOUS:
            return self.continuous_bps
        if session is TradingSession.OPENING_AUCTION:
            return self.opening_auction_bps
        return self.pre_open_bps


class AccountLimits(_Model):
    max_order_qty: StrictInt = Field(10_000, gt=0, description="shares in one order")
    max_order_notional: Money = Field(Decimal(1_000_000), description="value of one order")
    max_position: StrictInt = Field(50_000, gt=0, description="shares long or short, per symbol")
    position_overrides: dict[str, Shares] = Field(
        default_factory=dict, description="per-symbol max position overriding max_position"
    )
    max_gross_notional: Money = Field(
        Decimal(20_000_000), description="positions at the mark plus open orders, all symbols"
    )
    credit_limit: Money = Field(
        Decimal(50_000_000), description="the day's executed notional plus open orders"
    )
    daily_loss_limit: Money = Field(
        Decimal(500_000), description="realized plus marked loss that halts the account"
    )
    market_order_sessions: frozenset[TradingSession] = Field(
        frozenset({TradingSession.CONTINUOUS}), description="sessions where market orders may go"
    )
    restricted_symbols: frozenset[str] = Field(
        frozenset(), description="symbols this account may not trade"
    )
    max_orders_per_second: StrictInt = Field(
        100, gt=0, description="accepted orders of the account in any 1 s, every strategy"
    )
    max_orders_per_minute: StrictInt = Field(
        3_000, gt=0, description="accepted orders of the account in any 60 s, every strategy"
    )
    max_notional_per_second: Money = Field(
        Decimal(5_000_000), description="notional of the account's accepted orders in any 1 s"
    )
    max_notional_per_minute: Money = Field(
        Decimal(25_000_000), description="notional of the account's accepted orders in any 60 s"
    )


class MessageLimits(_Model):
    """The message throttle: new orders, cancels and replaces, per session and per instance.

    A replace is a new order and a cancel; accepted or refused, each message that reaches
    the gateway from an authenticated session counts (docs/reject-codes.md, MESSAGE_RATE).
    """

    per_session: RateLimit = Field(
        RateLimit(count=500, window_ms=1_000),
        description="messages per session (the authenticated principal: a FIX logon's "
        "user or a REST API key's principal), every account it trades together",
    )
    per_instance: RateLimit = Field(
        RateLimit(count=2_000, window_ms=1_000),
        description="messages per gateway instance, every session together",
    )


class OrderToTradeLimits(_Model):
    """Orders per trade over the trading day, per account and per account and strategy.

    MiFID II RTS 9 style: orders are accepted new orders plus cancel requests, trades are
    fills. Integers only: a new order is refused when orders > max_ratio * trades.
    """

    max_ratio: StrictInt = Field(
        100, gt=0, description="orders (new + cancels) allowed per trade (fill) in one day"
    )
    min_orders: StrictInt = Field(
        1_000, ge=0, description="orders of the day before the ratio applies at all"
    )


class SelfTradeMode(StrEnum):
    """What happens to an order that would cross a working order of its own group."""

    REJECT = "reject"
    CANCEL_NEWEST = "cancel_newest"
    CANCEL_OLDEST = "cancel_oldest"


class SelfTradeLimits(_Model):
    """Self-trade prevention across the accounts of a group (no group: the account alone)."""

    mode: SelfTradeMode = Field(
        SelfTradeMode.REJECT,
        description="reject or cancel_newest: the incoming order is refused (SELF_TRADE); "
        "cancel_oldest: the crossed working orders are cancelled and the new one accepted",
    )
    groups: dict[str, frozenset[str]] = Field(
        default_factory=dict, description="group name -> its accounts (one group an account)"
    )

    @model_validator(mode="after")
    def _one_group_an_account(self) -> SelfTradeLimits:
        seen: dict[str, str] = {}
        for group, accounts in sorted(self.groups.items()):
            for account in sorted(accounts):
                if account in seen:
                    raise ValueError(
                        f"account {account} is in groups {seen[account]} and {group}: one only"
                    )
                seen[account] = group
        return self

    def group_of(self) -> dict[str, str]:
        """account -> its group (accounts in no group are missing: their own group)."""
        return {a: g for g, accounts in self.groups.items() for a in accounts}


class AccountOverride(_Model):
    """Per-account changes to `defaults`; a field left out keeps the default."""

    max_order_qty: StrictInt | None = Field(None, gt=0)
    max_order_notional: Money | None = None
    max_position: StrictInt | None = Field(None, gt=0)
    position_overrides: dict[str, Shares] | None = None
    max_gross_notional: Money | None = None
    credit_limit: Money | None = None
    daily_loss_limit: Money | None = None
    market_order_sessions: frozenset[TradingSession] | None = None
    restricted_symbols: frozenset[str] | None = None
    max_orders_per_second: StrictInt | None = Field(None, gt=0)
    max_orders_per_minute: StrictInt | None = Field(None, gt=0)
    max_notional_per_second: Money | None = None
    max_notional_per_minute: Money | None = None


class FirmLimits(_Model):
    max_gross_notional: Money = Field(
        Decimal(200_000_000), description="firm-wide positions at the mark plus open orders"
    )
    restricted_symbols: frozenset[str] = Field(frozenset(), description="no account may trade")


class ShortSaleLimits(_Model):
    """Reg SHO (Rules 200(g), 203(b)): a `sell` must be covered by the account's position;
    a `sell_short` needs a locate in force (admin `POST /locates`) unless easy to borrow."""

    easy_to_borrow: frozenset[str] = Field(
        frozenset(), description="symbols whose short sales need no locate (the day's ETB list)"
    )
    agency_accounts: frozenset[str] = Field(
        frozenset(),
        description="accounts that route customers' orders: a sale that is the child of a "
        "declared sell parent is covered by that parent's unworked shares, not the position",
    )


class AdvLimits(_Model):
    """The fat-finger bound against the market's size: one order's quantity over a share of
    the symbol's average daily volume (ADV). A symbol with no ADV figure is refused while
    the check is on (fail closed). `shares` are kept with the limits (journaled in
    `LimitsLoaded`); the day's `file`, when set, overrides them symbol by symbol and is
    reloaded without a restart, each load journaled as `AdvLoaded` (gateway/adv_reload.py,
    docs/configuration.md)."""

    max_order_bps: StrictInt = Field(
        100, gt=0, le=10_000, description="most of a symbol's ADV one order may be, in bps"
    )
    shares: dict[str, Shares] = Field(
        default_factory=dict, description="average daily volume per symbol, in shares"
    )
    file: str | None = Field(
        None,
        min_length=1,
        description="CSV `symbol,adv_shares` with a first line `# as_of=YYYY-MM-DD`, relative "
        "to the config file's directory; its figures override `shares`, symbol by symbol; "
        "loaded at start, before each day's pre-open and on `POST /adv/reload`",
    )
    max_age_days: StrictInt = Field(
        3, gt=0, le=30, description="calendar days after its as_of date a file is stale"
    )


class LimitsConfig(_Model):
    firm: FirmLimits = FirmLimits()
    defaults: AccountLimits = AccountLimits()
    accounts: dict[str, AccountOverride] = Field(default_factory=dict)
    collar: CollarLimits = CollarLimits()
    rates: RateLimits = RateLimits()
    messages: MessageLimits = MessageLimits()
    order_to_trade: OrderToTradeLimits = OrderToTradeLimits()
    self_trade: SelfTradeLimits = SelfTradeLimits()
    duplicate_window_ms: StrictInt = Field(
        1_000, ge=0, description="same account, symbol, side, qty and price inside it: duplicate"
    )
    short_sale: ShortSaleLimits = Field(
        ShortSaleLimits(), description="short-sale marking and locates (Reg SHO)"
    )
    adv: AdvLimits = Field(AdvLimits(), description="order size against average daily volume")
    loss_halt_allows_reducing: StrictBool = Field(
        True,
        description="while an account is halted for its daily loss, orders that can only "
        "reduce its positions still pass (false: nothing passes until a person resumes it)",
    )

    def account(self, name: str) -> AccountLimits:
        override = self.accounts.get(name)
        if override is None:
            return self.defaults
        return self.defaults.model_copy(update=override.model_dump(exclude_none=True))

    def digest(self) -> str:
        return hashlib.sha256(self.canonical_json().encode()).hexdigest()[:16]

    def canonical_json(self) -> str:
        return canonical_json(self, self.unset_later())

    def unset_later(self) -> frozenset[str]:
        """Sections added after limits were journaled and attested, left out of the digests
        while at their default, so a file from before them keeps its digest."""
        fields = LimitsConfig.model_fields
        later = frozenset(f for f in LIMITS_LATER if getattr(self, f) == fields[f].get_default(
            call_default_factory=True))  # fmt: skip
        adv = AdvLimits.model_fields
        return later | {f"adv.{f}" for f in ADV_LATER if getattr(self.adv, f) == adv[f].default}


LIMITS_LATER = ("messages", "order_to_trade", "self_trade")
"""LimitsConfig sections added after files were attested (see `unset_later`)."""
ADV_LATER = ("file", "max_age_days")
"""AdvLimits fields added after files were attested (see `unset_later`)."""


def _canonical(value: object) -> object:
    if isinstance(value, dict):
        return {str(_canonical(k)): _canonical(v) for k, v in value.items()}
    if isinstance(value, (set, frozenset)):
        return sorted(str(_canonical(v)) for v in value)
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (date, time)):
        return value.isoformat()
    return value


def canonical_json(model: BaseModel, exclude: frozenset[str] = frozenset()) -> str:
    """The same text for the same settings in every process: keys and sets sorted;
    fields in `exclude` left out (top-level names, or dotted paths: `section.field`,
    `limits.adv.file`); a section left out whole wins over its fields.

    (pydantic dumps a frozenset in hash order, which changes with PYTHONHASHSEED.)
    """
    nested: dict[str, Any] = {}
    for name in sorted(exclude, key=lambda n: n.count(".")):  # whole sections first
        *sections, leaf = name.split(".")
        part: Any = nested
        for section in sections:
            part = part.setdefault(section, {})
            if part is True:
                break
        else:
            part[leaf] = True
    data = _canonical(model.model_dump(mode="python", exclude=nested))
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True, slots=True)
class AccountRisk:
    """One account's limits as integers (shares, micros): what the checks read."""

    account: str
    max_order_qty: int
    max_order_notional: int
    max_position: int
    position_overrides: dict[str, int]
    max_gross: int
    credit_limit: int
    daily_loss_limit: int
    market_sessions: frozenset[TradingSession]
    restricted: frozenset[str]
    orders_per_second: int
    orders_per_minute: int
    notional_per_second: int  # micros
    notional_per_minute: int  # micros

    def position_limit(self, symbol: str) -> int:
        return self.position_overrides.get(symbol, self.max_position)


def compile_account(name: str, cfg: LimitsConfig) -> AccountRisk:
    a = cfg.account(name)
    return AccountRisk(
        account=name,
        max_order_qty=a.max_order_qty,
        max_order_notional=to_micros(a.max_order_notional),
        max_position=a.max_position,
        position_overrides=dict(a.position_overrides),
        max_gross=to_micros(a.max_gross_notional),
        credit_limit=to_micros(a.credit_limit),
        daily_loss_limit=to_micros(a.daily_loss_limit),
        market_sessions=frozenset(a.market_order_sessions),
        restricted=frozenset(a.restricted_symbols) | cfg.firm.restricted_symbols,
        orders_per_second=a.max_orders_per_second,
        orders_per_minute=a.max_orders_per_minute,
        notional_per_second=to_micros(a.max_notional_per_second),
        notional_per_minute=to_micros(a.max_notional_per_minute),
    )
