"""Cross checks of a config whose keys all have the right type: every name a setting uses
must resolve, and credentials must not overlap.

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


def cross_check(cfg: GatewayConfig) -> list[Problem]:
    """Every unresolved name and overlapping credential in `cfg`, in key order."""
    return _credentials(cfg) + _accounts(cfg) + _symbols(cfg) + _budgets(cfg)


def _credentials(cfg: GatewayConfig) -> list[Problem]:
    """A digest names one caller on one listener: a trading key that is also an admin token
    would let a leaked order key lift a halt, and two principals on one key make the
    journal lie about who acted."""
    problems: list[Problem] = []
    seen: set[str] = set()
    keys: list[tuple[Loc, str]] = [
        (("api_keys", i, "key_sha256"), k.key_sha256) for i, k in enumerate(cfg.api_keys)
    ]
    keys += [(("rest", "keys", i, "key_sha256"), k.key_sha256) for i, k in enumerate(cfg.rest.keys)]
    for where, digest in keys:
        if digest in seen:
            problems.append((where, "this API key digest is given twice"))
        seen.add(digest)
    admin: set[str] = set()
    for i, t in enumerate(cfg.admin.tokens):
        token: Loc = ("admin", "tokens", i, "token_sha256")
        if t.token_sha256 in admin:
            problems.append((token, "this admin token digest is given twice"))
        elif t.token_sha256 in seen:
            problems.append((token, "an admin token may not also be an API key"))
        admin.add(t.token_sha256)
    if cfg.rest.port and cfg.rest.port == cfg.admin.port:
        problems.append((("rest", "port"), f"is also admin.port ({cfg.admin.port})"))
    return problems


def _accounts(cfg: GatewayConfig) -> list[Problem]:
    """Accounts are the `[limits.accounts.NAME]` tables; keys and sessions name them."""
    defined = cfg.limits.accounts
    problems: list[Problem] = []
    traded: set[str] = set()
    for i, key in enumerate(cfg.api_keys):
        traded |= key.accounts
        for name in sorted(key.accounts - defined.keys()):
            why = f"unknown account (no [limits.accounts.{name}] table)"
            problems.append((("api_keys", i, "accounts", name), why))
    for name in defined:
        if name not in traded:
            why = "no API key trades this account, so its limits never apply"
            problems.append((("limits", "accounts", name), why))
    if cfg.fix is not None:
        principals = {k.principal for k in cfg.api_keys}
        for i, session in enumerate(cfg.fix.sessions):
            if session.account not in defined:
                where: Loc = ("fix", "sessions", i, "account")
                problems.append((where, f"unknown account {session.account}"))
            if session.username not in principals:
                where = ("fix", "sessions", i, "username")
                why = f"no API key has principal {session.username}, so it can never log on"
                problems.append((where, why))
    return problems


def _symbols(cfg: GatewayConfig) -> list[Problem]:
    """Restricted symbols and position overrides must be listed instruments."""
    lim = cfg.limits
    places: list[tuple[Loc, Iterable[str]]] = [
        (("limits", "firm", "restricted_symbols"), lim.firm.restricted_symbols),
        (("limits", "defaults", "restricted_symbols"), lim.defaults.restricted_symbols),
        (("limits", "defaults", "position_overrides"), lim.defaults.position_overrides),
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
