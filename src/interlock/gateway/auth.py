"""Caller authentication: the one place a credential becomes a `Principal`.

Keys are stored as SHA-256 digests; a key is hashed once, then remembered for the life of
the process. Edges authenticate once (FIX at logon, REST per request) and pass the
`Principal` inward; the Python API may pass the key itself, resolved here through the same
cache. A `Principal` counts only if this authenticator issued it (an identity check: one
made up elsewhere, even with the same fields, is refused). The gateway's authenticator
holds the trading keys (`api_keys`, role trader); the REST edge adds its read-only keys
(`rest.keys`) to it when it starts (`add`), so one authenticator answers for both. The
admin listener has its own one, over admin tokens only, so a credential of one kind is
simply unknown on the other port.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from interlock.domain.commands import OrderRequest
from interlock.domain.reject import RejectCode, Rejection, reject
from interlock.gateway.config import GatewayConfig, hash_key

_NONE: frozenset[str] = frozenset()


class Role(StrEnum):
    """What a caller may do. Traders are the gateway's `api_keys`; risk and operator
    callers are the REST edge's read-only keys and the admin listener's tokens; a reader
    is an admin token that may only look (fleet, deploys, halts, flags), never change."""

    TRADER = "trader"
    RISK = "risk"
    OPERATOR = "operator"
    READER = "reader"


@dataclass(frozen=True, slots=True, eq=False)  # eq=False: compared and hashed by identity
class Principal:
    """Who a caller is: the accounts and strategies it may trade, and its REST role.
    Read-only roles (risk, operator) trade nothing and see every account."""

    name: str
    accounts: frozenset[str]
    strategies: frozenset[str]
    role: Role = Role.TRADER

    def may_trade(self, account: str, strategy: str) -> bool:
        return account in self.accounts and (strategy in self.strategies or "*" in self.strategies)

    @property
    def sees_all(self) -> bool:
        return self.role is not Role.TRADER

    def sees(self, account: str) -> bool:
        return self.role is not Role.TRADER or account in self.accounts


class Authenticator:
    __slots__ = ("_by_digest", "_issued", "_known")

    def __init__(self, entries: Iterable[tuple[str, Principal]]) -> None:
        """`entries`: (SHA-256 hex digest of the key, who it is)."""
        self._by_digest = dict(entries)
        self._issued = frozenset(self._by_digest.values())
        self._known: dict[str, Principal] = {}

    @classmethod
    def for_gateway(cls, config: GatewayConfig) -> Authenticator:
        """The trading keys, each bound to its accounts and strategies."""
        return cls((k.key_sha256, Principal(k.principal, k.accounts, k.strategies))
                   for k in config.api_keys)  # fmt: skip

    @classmethod
    def readers(cls, keys: Iterable[tuple[str, str, Role]]) -> Authenticator:
        """(digest, principal, role) of callers bound to no account: they trade nothing."""
        return cls((digest, Principal(name, _NONE, _NONE, role)) for digest, name, role in keys)

    def add(self, keys: Iterable[tuple[str, str, Role]]) -> None:
        """Admit read-only callers (digest, principal, role) beside the trading keys: an
        edge's own keys, registered once as it starts, before it serves anyone."""
        for digest, name, role in keys:
            if digest not in self._by_digest:
                self._by_digest[digest] = Principal(name, _NONE, _NONE, role)
        self._issued = frozenset(self._by_digest.values())

    def known(self, caller: object) -> Principal | None:
        """The principal of a caller already seen (a dict lookup: never hashes)."""
        if caller.__class__ is Principal:
            return caller if caller in self._issued else None
        return self._known.get(caller) if isinstance(caller, str) else None

    def resolve(self, caller: object) -> Principal | None:
        """`caller` as a principal: one this authenticator issued, or a key it knows."""
        if caller.__class__ is Principal:
            return caller if caller in self._issued else None
        return self.principal(caller)

    def principal(self, api_key: object) -> Principal | None:
        """Who `api_key` is; None for an unknown key or anything that is not a plain str
        (None, bytes, a list: never a TypeError out of the dict lookup)."""
        if api_key.__class__ is not str:
            return None
        assert isinstance(api_key, str)  # for mypy: the class check above is exact
        p = self._known.get(api_key)
        if p is not None:
            return p
        if not api_key:
            return None
        try:
            digest = hash_key(api_key)
        except UnicodeEncodeError:  # a lone surrogate: no key was ever registered as one
            return None
        for known, principal in self._by_digest.items():
            if hmac.compare_digest(known, digest):
                self._known[api_key] = principal
                return principal
        return None

    def authorize(self, caller: object, request: OrderRequest) -> Principal | Rejection:
        """`caller` (a Principal or an API key) if it may trade the request's account and
        strategy; else UNAUTHENTICATED."""
        cls = caller.__class__
        p: Principal | None
        if cls is Principal:  # an edge authenticated already: one set lookup by identity
            p = caller if caller in self._issued else None
        elif cls is str:
            p = self._known.get(caller) or self.principal(caller)  # type: ignore[call-overload]
        else:
            p = None
        if p is None:
            return reject(
                RejectCode.UNAUTHENTICATED,
                "API key not recognised",
                limit="registered API key",
                attempted="unknown key",
            )
        account, strategy, strategies = request.account, request.strategy, p.strategies
        if account not in p.accounts or (strategy not in strategies and "*" not in strategies):
            return reject(  # `may_trade`, inline: once an order
                RejectCode.UNAUTHENTICATED,
                f"principal {p.name} may not trade account {request.account} as strategy "
                f"{request.strategy}",
                limit=f"accounts {sorted(p.accounts)}, strategies {sorted(p.strategies)}",
                attempted=f"{request.account}/{request.strategy}",
            )
        return p
