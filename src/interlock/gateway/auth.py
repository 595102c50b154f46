"""Caller authentication: API keys (stored as SHA-256 digests) mapped to accounts and
strategies. A key is hashed once, then remembered for the life of the process."""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from interlock.domain.commands import OrderRequest
from interlock.domain.reject import RejectCode, Rejection, reject
from interlock.gateway.config import ApiKeyConfig, hash_key


@dataclass(frozen=True, slots=True)
class Principal:
    name: str
    accounts: frozenset[str]
    strategies: frozenset[str]

    def may_trade(self, account: str, strategy: str) -> bool:
        return account in self.accounts and (strategy in self.strategies or "*" in self.strategies)


class Authenticator:
    __slots__ = ("_by_digest", "_known")

    def __init__(self, keys: list[ApiKeyConfig]) -> None:
        self._by_digest = {
            k.key_sha256: Principal(k.principal, k.accounts, k.strategies) for k in keys
        }
        self._known: dict[str, Principal] = {}

    def known(self, api_key: object) -> Principal | None:
        """The principal of a key already seen (a dict lookup: never hashes)."""
        return self._known.get(api_key) if isinstance(api_key, str) else None

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

    def authorize(self, api_key: object, request: OrderRequest) -> Principal | Rejection:
        p = (self._known.get(api_key) if api_key.__class__ is str else None) or self.principal(
            api_key
        )
        if p is None:
            return reject(
                RejectCode.UNAUTHENTICATED,
                "API key not recognised",
                limit="registered API key",
                attempted="unknown key",
            )
        if not p.may_trade(request.account, request.strategy):
            return reject(
                RejectCode.UNAUTHENTICATED,
                f"principal {p.name} may not trade account {request.account} as strategy "
                f"{request.strategy}",
                limit=f"accounts {sorted(p.accounts)}, strategies {sorted(p.strategies)}",
                attempted=f"{request.account}/{request.strategy}",
            )
        return p
