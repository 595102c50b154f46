"""Limit changes against the limits model: paths, current values, validation, "raise".

A path names one number of `LimitsConfig` (risk/limits.py) as its TOML keys do:

    firm.max_gross_notional
    defaults.FIELD                        accounts.ACCOUNT.FIELD
    defaults.position_overrides.SYMBOL    accounts.ACCOUNT.position_overrides.SYMBOL

FIELD is one of ACCOUNT_FIELDS: every one is a maximum (shares, orders, or money), so a
larger value is looser: a *raise*, which needs a second risk principal. A smaller value
is a *lowering*, which applies at once. An account path reads the account's limit in
force (its override, else the default): that is what a check compares. Anything else
(collars, windows, restricted symbols, sessions) is not changeable at run time: edit the
config and deploy it. The new limits are validated by the very model the config is, so
a change that would make them invalid is refused CONFIG_INVALID, naming the key.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from pydantic import ValidationError

from interlock.domain.limit_events import LimitItem
from interlock.domain.reject import RejectCode, Rejection, reject
from interlock.errors import ConfigError
from interlock.risk.limits import LimitsConfig

SHARE_FIELDS = frozenset(
    {"max_order_qty", "max_position", "max_orders_per_second", "max_orders_per_minute"}
)
MONEY_FIELDS = frozenset(
    {"max_order_notional", "max_gross_notional", "credit_limit", "daily_loss_limit",
     "max_notional_per_second", "max_notional_per_minute"}
)  # fmt: skip
ACCOUNT_FIELDS = SHARE_FIELDS | MONEY_FIELDS
OVERRIDES = "position_overrides"
_DIGITS = re.compile(r"^[0-9]+$")
Number = int | Decimal


@dataclass(frozen=True, slots=True)
class LimitPath:
    """A parsed path: scope "firm", "defaults" or "accounts"; `symbol` for an override."""

    scope: str
    account: str
    field: str
    symbol: str = ""


@dataclass(frozen=True, slots=True)
class Plan:
    """A change judged valid: its items (old values as in force now), whether it raises
    any limit, and the limits it would put in force."""

    items: tuple[LimitItem, ...]
    raises: bool
    config: LimitsConfig


def _invalid(reason: str, attempted: str) -> Rejection:
    return reject(RejectCode.CONFIG_INVALID, reason, "a changeable limit", attempted)


def parse_path(text: str, cfg: LimitsConfig, symbols: Collection[str]) -> LimitPath | Rejection:
    """`text` as a path of `cfg`, or CONFIG_INVALID saying what is wrong with it."""
    parts = text.split(".") if isinstance(text, str) else []
    if parts[:1] == ["accounts"] and len(parts) >= 3:
        if parts[1] not in cfg.accounts:
            return _invalid(f"limit path {text}: no account {parts[1]} in the limits", text)
        scope, account, rest = "accounts", parts[1], parts[2:]
    elif parts[:1] == ["defaults"]:
        scope, account, rest = "defaults", "", parts[1:]
    elif parts == ["firm", "max_gross_notional"]:
        return LimitPath("firm", "", "max_gross_notional")
    else:
        return _invalid(f"limit path {str(text)[:80]} is not one that can change at run time "
                        "(firm.max_gross_notional, defaults.FIELD, accounts.NAME.FIELD)",
                        str(text)[:80])  # fmt: skip
    if len(rest) == 1 and rest[0] in ACCOUNT_FIELDS:
        return LimitPath(scope, account, rest[0])
    if len(rest) == 2 and rest[0] == OVERRIDES:
        if rest[1] not in symbols:
            return _invalid(f"limit path {text}: {rest[1]} is not a listed instrument", text)
        return LimitPath(scope, account, OVERRIDES, rest[1])
    return _invalid(f"limit path {text}: {'.'.join(rest)} is not a changeable field; "
                    f"one of {sorted(ACCOUNT_FIELDS)} or {OVERRIDES}.SYMBOL", text)  # fmt: skip


def current(cfg: LimitsConfig, p: LimitPath) -> Number:
    """The value in force at `p` (an account's: its override, else the default)."""
    if p.scope == "firm":
        return cfg.firm.max_gross_notional
    limits = cfg.defaults if p.scope == "defaults" else cfg.account(p.account)
    if p.field == OVERRIDES:
        return limits.position_overrides.get(p.symbol, limits.max_position)
    value: Number = getattr(limits, p.field)
    return value


def _edge_value(p: LimitPath, value: object) -> object:
    """Digits given as text for a share count are the number (JSON, CLI); anything else
    goes to the model as given, which refuses what is not a valid value."""
    if isinstance(value, str) and _DIGITS.match(value) and (p.field not in MONEY_FIELDS):
        return int(value)
    return value


def with_values(cfg: LimitsConfig, changes: Iterable[tuple[LimitPath, object]]) -> LimitsConfig:
    """`cfg` with each path set to its value, validated by the model: ConfigError, naming
    every bad key, if the result is not valid limits."""
    data = cfg.model_dump(mode="python")
    for p, value in changes:
        value = _edge_value(p, value)
        if p.scope == "firm":
            data["firm"][p.field] = value
            continue
        table = data["defaults"] if p.scope == "defaults" else data["accounts"][p.account]
        if p.field == OVERRIDES:
            if table[OVERRIDES] is None:  # the account had the defaults' overrides
                table[OVERRIDES] = dict(cfg.account(p.account).position_overrides)
            table[OVERRIDES][p.symbol] = value
        else:
            table[p.field] = value
    try:
        return LimitsConfig.model_validate(data)
    except ValidationError as e:
        lines = [f"{'.'.join(str(x) for x in err['loc'])}: {err['msg']}" for err in e.errors()]
        raise ConfigError("; ".join(lines)) from None


def plan(
    cfg: LimitsConfig, requested: Sequence[tuple[str, object]], symbols: Collection[str]
) -> Plan | Rejection:
    """Judge a proposed change against the limits in force: each path valid and given
    once, each value valid and different from the current one, the result valid limits.
    It raises if any item raises (a mixed change is a raise)."""
    if not requested:
        return _invalid("a limit change needs at least one path and value", "no items")
    parsed: list[tuple[LimitPath, object]] = []
    for text, value in requested:
        p = parse_path(text, cfg, symbols)
        if isinstance(p, Rejection):
            return p
        if any(q == p for q, _ in parsed):
            return _invalid(f"limit path {text} is given twice in one change", text)
        parsed.append((p, value))
    try:
        new_cfg = with_values(cfg, parsed)
    except ConfigError as e:
        return _invalid(f"the change would make the limits invalid: {e}",
                        ", ".join(f"{t}={v!s:.40}" for t, v in requested))  # fmt: skip
    items: list[LimitItem] = []
    raises = False
    for (p, _), (text, _) in zip(parsed, requested, strict=True):
        old, new = current(cfg, p), current(new_cfg, p)
        if new == old:
            return _invalid(f"limit {text} is already {old}: nothing would change", str(new))
        raises = raises or new > old
        items.append(LimitItem(text, str(old), str(new)))
    return Plan(tuple(items), raises, new_cfg)


def stale(cfg: LimitsConfig, items: Iterable[LimitItem], symbols: Collection[str]) -> str:
    """Empty if every item's old value is still the one in force, else which is not."""
    for item in items:
        p = parse_path(item.path, cfg, symbols)
        if isinstance(p, Rejection):
            return f"{item.path} is no longer a limit ({p.reason})"
        now = current(cfg, p)
        if Decimal(str(now)) != Decimal(item.old):
            return f"{item.path} is {now} now, not {item.old} as proposed"
    return ""


def apply_items(
    cfg: LimitsConfig, items: Iterable[LimitItem], symbols: Collection[str]
) -> LimitsConfig:
    """`cfg` with each item's new value (a journaled change, folded): ConfigError if the
    journal's change no longer fits these limits (the config was edited under it)."""
    parsed: list[tuple[LimitPath, object]] = []
    for item in items:
        p = parse_path(item.path, cfg, symbols)
        if isinstance(p, Rejection):
            raise ConfigError(p.reason)
        parsed.append((p, item.new))
    return with_values(cfg, parsed)
