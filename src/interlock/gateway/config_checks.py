"""Cross checks of a config whose keys all have the right type: every name a setting uses
must resolve, and credentials must not overlap. (The transports' sections are checked by
api/config_checks.py, under the same kinds, so the report keeps one order.)

Why a separate pass: each model validates its own keys, but only the whole config knows
which accounts and instruments exist. A typo here is dangerous, not cosmetic: a restricted
symbol spelt wrong leaves the real one tradeable, and an account table no key trades
never applies. Each problem is `(dotted key path, sentence)`; all are reported at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from interlock.gateway.config import GatewayConfig

Loc = tuple[str | int, ...]
Problem = tuple[Loc, str]


def cross_check(cfg: GatewayConfig) -> dict[str, list[Problem]]:
    """Every unresolved name and overlapping credential in `cfg`, by kind, in key order."""
    return {
        "credentials": _credentials(cfg),
        "accounts": _accounts(cfg),
        "symbols": _symbols(cfg),
        "budgets": _budgets(cfg),
    }


def _credentials(cfg: GatewayConfig) -> list[Problem]:
    """Two principals on one key would make the journal lie about who acted."""
    problems: list[Problem] = []
    seen: set[str] = set()
    for i, k in enumerate(cfg.api_keys):
        if k.key_sha256 in seen:
            problems.append((("api_keys", i, "key_sha256"), "this API key digest is given twice"))
        seen.add(k.key_sha256)
    return problems


def _accounts(cfg: GatewayConfig) -> list[Problem]:
    """Accounts are the `[limits.accounts.NAME]` tables; API keys name them."""
    defined = cfg.limits.accounts
    problems: list[Problem] = []
    traded: set[str] = set()
    for i, key in enumerate(cfg.api_keys):
        traded |= key.accounts
        for name in sorted(key.accounts - defined.keys()):
            why = f"unknown account (no [limits.accounts.{name}] table)"
            problems.append((("api_keys", i, "accounts", name), why))
    for name in sorted(cfg.limits.short_sale.agency_accounts - defined.keys()):
        why = f"unknown account (no [limits.accounts.{name}] table)"
        problems.append((("limits", "short_sale", "agency_accounts", name), why))
    for name in defined:
        if name not in traded:
            why = "no API key trades this account, so its limits never apply"
            problems.append((("limits", "accounts", name), why))
    return problems


def _symbols(cfg: GatewayConfig) -> list[Problem]:
    """Restricted symbols, position overrides, the easy-to-borrow list and ADV figures must
    be listed instruments."""
    lim = cfg.limits
    places: list[tuple[Loc, Iterable[str]]] = [
        (("limits", "firm", "restricted_symbols"), lim.firm.restricted_symbols),
        (("limits", "defaults", "restricted_symbols"), lim.defaults.restricted_symbols),
        (("limits", "defaults", "position_overrides"), lim.defaults.position_overrides),
        (("limits", "short_sale", "easy_to_borrow"), lim.short_sale.easy_to_borrow),
        (("limits", "adv", "shares"), lim.adv.shares),
    ]
    for name, acct in lim.accounts.items():
        if acct.restricted_symbols is not None:
            places.append(
                (("limits", "accounts", name, "restricted_symbols"), acct.restricted_symbols)
            )
        if acct.position_overrides is not None:
            places.append(
                (("limits", "accounts", name, "position_overrides"), acct.position_overrides)
            )
    return [
        ((*loc, symbol), "unknown instrument")
        for loc, symbols in places
        for symbol in sorted(symbols)
        if symbol not in cfg.instruments
    ]


def _budgets(cfg: GatewayConfig) -> list[Problem]:
    problems: list[Problem] = []
    seen: set[tuple[str, str]] = set()
    for i, b in enumerate(cfg.fleet.budgets):
        if b.account not in cfg.limits.accounts:
            problems.append((("fleet", "budgets", i, "account"), f"unknown account {b.account}"))
        if b.symbol not in cfg.instruments:
            problems.append((("fleet", "budgets", i, "symbol"), f"unknown instrument {b.symbol}"))
        if (b.account, b.symbol) in seen:
            problems.append((("fleet", "budgets", i), f"{b.account} {b.symbol} is given twice"))
        seen.add((b.account, b.symbol))
    return problems
