"""Cross checks of the transports' sections against the gateway's: credentials that must
not overlap, listeners that must not share a port, FIX sessions that must name an account
and an API key that exist, and a reference source that suits the venue.

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
    return {
        "credentials": _credentials(cfg) + _feed(cfg),
        "accounts": _fix_sessions(cfg),
        "symbols": _reference(cfg),
    }


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


def _reference(cfg: ServeConfig) -> list[Problem]:
    """Orders routed to a real venue are never judged against the simulator's prices."""
    if cfg.venue.kind == "fix" and cfg.reference.source == "simulated":
        why = (
            "the simulated venue's prices never judge orders routed to a FIX venue: "
            "set source = 'venue' (its market data) or 'feed'"
        )
        return [(("reference", "source"), why)]
    return []


def _feed(cfg: ServeConfig) -> list[Problem]:
    """A publisher token is its own credential: one that is also an API key or an admin
    token would let a trading key move the marks its orders are collared against."""
    feed = cfg.reference.feed
    if feed is None:
        return []
    problems: list[Problem] = []
    others = {k.key_sha256 for k in cfg.api_keys} | {k.key_sha256 for k in cfg.rest.keys}
    others |= {t.token_sha256 for t in cfg.admin.tokens}
    for i, digest in enumerate(feed.publishers):
        if digest in others:
            where: Loc = ("reference", "feed", "publishers", i)
            problems.append((where, "a publisher token may not also be an API key or admin token"))
    for name, port in (("rest", cfg.rest.port), ("admin", cfg.admin.port)):
        if feed.port and feed.port == port:
            problems.append((("reference", "feed", "port"), f"is also {name}.port ({port})"))
    return problems
