"""Cross checks of the transports' sections against the gateway's: credentials that must
not overlap, listeners that must not share a port, FIX sessions that must name an account
and an API key that exist.

They run in the same validation as gateway/config_checks.py (filed under its kinds), so a
file's every problem is still reported at once and in one order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from interlock.gateway.config_checks import Loc, Problem

if TYPE_CHECKING:
    from interlock.api.config import ServeConfig


def transport_checks(cfg: ServeConfig) -> dict[str, list[Problem]]:
    """The transports' problems, by the kinds of `GatewayConfig.cross_checks`."""
    return {"credentials": _credentials(cfg), "accounts": _fix_sessions(cfg)}


def _credentials(cfg: ServeConfig) -> list[Problem]:
    """A digest names one caller on one listener: a trading key that is also an admin token
    would let a leaked order key lift a halt, and two principals on one key make the
    journal lie about who acted."""
    problems: list[Problem] = []
    seen = {k.key_sha256 for k in cfg.api_keys}
    for i, k in enumerate(cfg.rest.keys):
        if k.key_sha256 in seen:
            where: Loc = ("rest", "keys", i, "key_sha256")
            problems.append((where, "this API key digest is given twice"))
        seen.add(k.key_sha256)
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


def _fix_sessions(cfg: ServeConfig) -> list[Problem]:
    """A session books to an account (a `[limits.accounts.NAME]` table) and logs on with
    an API key's principal."""
    if cfg.fix is None:
        return []
    problems: list[Problem] = []
    principals = {k.principal for k in cfg.api_keys}
    for i, session in enumerate(cfg.fix.sessions):
        if session.account not in cfg.limits.accounts:
            where: Loc = ("fix", "sessions", i, "account")
            problems.append((where, f"unknown account {session.account}"))
        if session.username not in principals:
            where = ("fix", "sessions", i, "username")
            why = f"no API key has principal {session.username}, so it can never log on"
            problems.append((where, why))
    return problems
