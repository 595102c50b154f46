"""Plain-text renderings for people: order requests, journal events, a config's summary.

Used by the CLI and the demo; nothing on the order path imports this module.
"""

from __future__ import annotations

from decimal import Decimal

from interlock.control.attestation import short
from interlock.domain.commands import OrderRequest
from interlock.domain.enums import HaltScope, OrderType, Side, TradingSession
from interlock.domain.events import (
    AdvLoaded,
    Cancelled,
    CancelRequested,
    DeployAborted,
    DeployCommitted,
    DeployProposed,
    DropCopyBreak,
    Event,
    Filled,
    HaltApplied,
    HaltLifted,
    LimitsLoaded,
    LocateAdded,
    OrderDecided,
    ParentDeclared,
    ReadinessAcknowledged,
    Routed,
    VenueRejected,
)
from interlock.domain.flag_events import FlagDisabled, FlagEnabled, FlagEvent, FlagRegistered
from interlock.domain.limit_events import (
    LimitChangeApplied,
    LimitChangeApproved,
    LimitChangeDeclined,
    LimitChangeProposed,
    LimitEvent,
)
from interlock.gateway.config import GatewayConfig
from interlock.gateway.journal_status import iso_ms as _iso

_SIDE = {Side.BUY: "buy", Side.SELL: "sell", Side.SELL_SHORT: "sell short"}
_SESSION = {TradingSession.PRE_OPEN: "pre-open", TradingSession.OPENING_AUCTION: "opening auction"}


def printable(text: str) -> str:
    """`text` with every non-printable character (C0 and C1 controls, DEL, line and format
    separators) shown as its escape (`\\x1b`, `\\n`, `\\u2028`): a journal written before ids
    were checked, or a tampered one, must not move the cursor or clear an operator's
    terminal, nor forge a line of output."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


def printable_lines(text: str) -> str:
    """`printable` for each line of a multi-line message; the line breaks stay."""
    return "\n".join(printable(line) for line in text.split("\n"))


def describe_request(req: OrderRequest, *, account: bool = False) -> str:
    """`buy 100 AAPL @ 100.01 limit`, plus the session, parent and account when they matter."""
    side = _SIDE.get(req.side, str(req.side))
    qty = f"{req.quantity:,}" if isinstance(req.quantity, int) else repr(req.quantity)
    if req.order_type is OrderType.MARKET:
        text = f"{side} {qty} {req.symbol} market"
    else:
        text = f"{side} {qty} {req.symbol} @ {req.limit_price} limit"
    if req.session in _SESSION:
        text += f", {_SESSION[req.session]}"
    if req.parent_id is not None:
        text += f", child of {req.parent_id}"
    return f"{req.account}: {text}" if account else text


def _scope(scope: HaltScope, target: str) -> str:
    return "global" if scope is HaltScope.GLOBAL else f"{scope.value} {target}"


class EventSummarizer:
    """One line per journal event; remembers each order's symbol and tick to show prices."""

    def __init__(self, config: GatewayConfig | None = None) -> None:
        self._ticks = {s: i.tick_size for s, i in (config.instruments if config else {}).items()}
        self._orders: dict[int, tuple[str, Decimal | None]] = {}

    def _price(self, order_id: int, ticks: int) -> str:
        tick = self._orders.get(order_id, ("", None))[1]
        return f"{ticks} ticks" if tick is None else str(ticks * tick)

    def __call__(self, event: Event) -> str:
        """The event's line, with any control character in it escaped (see `printable`)."""
        return printable(self._line(event))

    def _line(self, event: Event) -> str:
        if isinstance(event, OrderDecided):
            req = event.request
            if req is None:  # failed schema validation: only its escaped repr was kept
                return f"invalid request {event.raw} -> {event.code}: {event.reason}"
            head = f"{req.client_order_id} {req.account}/{req.strategy} {describe_request(req)}"
            if event.order_id is None:
                return f"{head} -> {event.code}: {event.reason}"
            tick = self._ticks.get(req.symbol)
            if req.limit_price is not None and event.price > 0:
                tick = req.limit_price / event.price
            self._orders[event.order_id] = (req.symbol, tick)
            return f"{head} -> ACCEPTED order {event.order_id}"
        if isinstance(event, Filled):
            symbol = self._orders.get(event.order_id, ("?", None))[0]
            price = self._price(event.order_id, event.price)
            return (
                f"order {event.order_id}: filled {event.qty:,} {symbol} @ {price} ({event.exec_id})"
            )
        if isinstance(event, Cancelled):
            return f"order {event.order_id}: cancelled, {event.qty:,} released ({event.reason})"
        if isinstance(event, VenueRejected):
            return f"order {event.order_id}: rejected by the venue ({event.reason})"
        if isinstance(event, Routed):
            return f"order {event.order_id}: routed to the venue"
        if isinstance(event, CancelRequested):
            return f"order {event.order_id}: cancel requested by {event.principal} ({event.reason})"
        if isinstance(event, HaltApplied):
            return f"HALT {_scope(event.scope, event.target)} by {event.who}: {event.reason}"
        if isinstance(event, HaltLifted):
            return f"RESUME {_scope(event.scope, event.target)} by {event.who}"
        if isinstance(event, ParentDeclared):
            p = event.parent
            side = _SIDE.get(p.side, str(p.side))
            return f"parent {p.parent_id}: {p.account} {side} {p.quantity:,} {p.symbol}"
        if isinstance(event, LimitsLoaded):
            return f"limits {event.digest} loaded ({len(event.document):,} bytes of JSON)"
        if isinstance(event, DeployProposed | DeployCommitted | DeployAborted):
            return _deploy(event)
        if isinstance(event, LocateAdded):
            return (f"LOCATE {event.locate_id} by {event.who}: {event.quantity:,} "
                    f"{event.symbol} for {event.account} from {event.source}, "
                    f"expires {_iso(event.expires_ns)}")  # fmt: skip
        if isinstance(event, AdvLoaded):
            return (f"ADV file as_of {event.as_of} loaded: {len(event.figures)} figure(s), "
                    f"digest {event.digest}")  # fmt: skip
        if isinstance(event, ReadinessAcknowledged):
            causes = "; ".join(event.causes) or "no cause"
            return (f"PRE-OPEN acknowledged by {event.who}: opened anyway over {causes} "
                    f"({event.alerts} error-level alert(s) acknowledged)")  # fmt: skip
        if isinstance(
            event,
            LimitChangeProposed | LimitChangeApproved | LimitChangeDeclined | LimitChangeApplied,
        ):
            return _limit_change(event)
        if isinstance(event, DropCopyBreak):
            return (f"DROP COPY BREAK {event.kind} exec {event.exec_id} ClOrdID "
                    f"{event.cl_ord_id or '-'}: {event.detail}; halted "
                    f"{_scope(event.scope, event.target)}")  # fmt: skip
        return _flag(event)


def _limit_change(event: LimitEvent) -> str:
    if isinstance(event, LimitChangeProposed):
        items = ", ".join(f"{i.path} {i.old} -> {i.new}" for i in event.items)
        kind = "a raise, pending" if event.raises else "a lowering"
        return f"LIMITS {event.change_id} proposed by {event.proposer} ({kind}): {items}"
    if isinstance(event, LimitChangeApproved):
        return f"LIMITS {event.change_id} approved by {event.approver}"
    if isinstance(event, LimitChangeDeclined):
        return f"LIMITS {event.change_id} declined by {event.who} ({event.reason})"
    return f"LIMITS {event.change_id} applied: limits {event.digest} in force"


def _flag(event: FlagEvent) -> str:
    if isinstance(event, FlagRegistered):
        return (
            f"FLAG registered {event.name!r} as id {event.flag_id} ({event.meaning}), "
            f"owner {event.owner}"
        )
    if isinstance(event, FlagEnabled):
        return (
            f"FLAG enabled {event.name!r} (id {event.flag_id}) by {event.who}; declared by "
            f"{len(event.members)} live member(s) ({', '.join(event.members)})"
        )
    if isinstance(event, FlagDisabled):
        return f"FLAG disabled {event.name!r} by {event.who}"
    return f"FLAG retired {event.name!r} by {event.who}: a tombstone, never reused"


def _deploy(event: DeployProposed | DeployCommitted | DeployAborted) -> str:
    what = f"build {short(event.build_digest)}, flags {short(event.flag_digest)}"
    if isinstance(event, DeployProposed):
        return (
            f"DEPLOY proposed {what} by {event.who} for {len(event.members)} member(s) "
            f"({', '.join(event.members)}), from epoch {event.base_epoch}"
        )
    if isinstance(event, DeployCommitted):
        members = ", ".join(event.members) or "no members named"
        return f"DEPLOY committed {what} at epoch {event.epoch} by {event.who} ({members})"
    return f"DEPLOY aborted {what} by {event.who}: {event.reason}"


def _value(v: object) -> str:
    """A config value for people: 500000 -> 500,000; lists sorted; maps as `k v`."""
    if isinstance(v, list):
        return "[" + ", ".join(sorted(_value(x) for x in v)) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k} {_value(x)}" for k, x in sorted(v.items())) + "}"
    try:
        return f"{Decimal(str(v)):,}"
    except ArithmeticError:
        return str(v)


def config_rows(cfg: GatewayConfig) -> list[tuple[str, str]]:
    """(what, value) rows summarizing a config, for `interlock config check`."""
    lim = cfg.limits
    d = lim.defaults
    rates = lim.rates
    rows = [
        ("instance", f"{cfg.instance_id} (lease TTL {cfg.lease_ttl_ms:,} ms)"),
        ("instruments", f"{len(cfg.instruments)}: {', '.join(cfg.instruments)}"),
        ("API keys", ", ".join(f"{k.principal} -> {sorted(k.accounts)}" for k in cfg.api_keys)),
        (
            "journal",
            f"{cfg.journal.describe(cfg.instance_id)} "
            f"(group commit wait <= {cfg.journal.max_wait_ms} ms)",
        ),
        (
            "firm",
            f"gross {lim.firm.max_gross_notional:,}; "
            f"restricted {sorted(lim.firm.restricted_symbols) or 'none'}",
        ),
        (
            "default limits",
            f"qty {d.max_order_qty:,}, notional {d.max_order_notional:,}, "
            f"position {d.max_position:,}, gross {d.max_gross_notional:,}, "
            f"credit {d.credit_limit:,}, daily loss {d.daily_loss_limit:,}",
        ),
    ]
    for name, override in lim.accounts.items():
        changed = override.model_dump(mode="json", exclude_none=True)
        text = ", ".join(f"{k} {_value(v)}" for k, v in changed.items()) or "defaults"
        rows.append((f"account {name}", text))
    c = lim.collar
    envelopes = [
        f"{name} {r.count:,}/{r.window_ms:,} ms"
        for name, r in (
            ("instance", rates.per_instance),
            ("strategy", rates.per_strategy),
            ("symbol", rates.per_symbol),
            ("market orders per symbol", rates.market_per_symbol),
        )
    ]
    rows += [
        (
            "collars",
            f"pre-open {c.pre_open_bps} bps, auction {c.opening_auction_bps} bps, "
            f"continuous {c.continuous_bps} bps; reference max age {c.reference_max_age_ms:,} ms",
        ),
        ("rates", ", ".join(envelopes)),
        ("duplicate window", f"{lim.duplicate_window_ms:,} ms"),
    ]
    return rows
