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

A key may carry an expiry (`not_after`): from that instant it resolves to nobody, a FIX
session already logged on with it trades no more, and `identify` says CREDENTIAL_EXPIRED.
A revoked digest (the config's `revoked`, applied at start) is never admitted:
CREDENTIAL_REVOKED. Expiry costs the hot path one truth test of an empty dict unless
some key has one.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from interlock.domain.commands import OrderRequest
from interlock.domain.reject import RejectCode, Rejection, reject
from interlock.gateway.config import GatewayConfig, expiry_ns, hash_key

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


Expiries = Mapping[str, int]
"""Key digest -> the wall-clock nanosecond from which the key is refused."""


def expiries(entries: Iterable[tuple[str, object]]) -> dict[str, int]:
    """(digest, not_after or None) of config entries, as `Expiries`."""
    out: dict[str, int] = {}
    for digest, not_after in entries:
        ns = expiry_ns(not_after)  # type: ignore[arg-type]
        if ns is not None:
            out[digest] = ns
    return out


class Authenticator:
    __slots__ = ("_by_digest", "_clock", "_expires", "_issued", "_known", "_revoked")

    def __init__(
        self,
        entries: Iterable[tuple[str, Principal]],
        *,
        expires: Expiries | None = None,
        revoked: Iterable[str] = (),
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        """`entries`: (SHA-256 hex digest of the key, who it is); `expires`: the keys that
        have an expiry; `revoked`: digests never admitted; `clock`: wall-clock ns."""
        self._revoked = frozenset(revoked)
        self._clock = clock
        self._by_digest: dict[str, Principal] = {}
        self._expires: dict[Principal, int] = {}
        self._known: dict[str, Principal] = {}
        self._admit(entries, expires or {})

    def _admit(self, entries: Iterable[tuple[str, Principal]], expires: Expiries) -> None:
        for digest, principal in entries:
            if digest in self._revoked or digest in self._by_digest:
                continue
            self._by_digest[digest] = principal
            if digest in expires:
                self._expires[principal] = expires[digest]
        self._issued = frozenset(self._by_digest.values())

    @classmethod
    def for_gateway(cls, config: GatewayConfig, clock: Callable[[], int] = time.time_ns
                    ) -> Authenticator:  # fmt: skip
        """The trading keys, each bound to its accounts and strategies."""
        return cls(((k.key_sha256, Principal(k.principal, k.accounts, k.strategies))
                    for k in config.api_keys),
                   expires=expiries((k.key_sha256, k.not_after) for k in config.api_keys),
                   revoked=config.revoked, clock=clock)  # fmt: skip

    @classmethod
    def readers(
        cls,
        keys: Iterable[tuple[str, str, Role]],
        *,
        expires: Expiries | None = None,
        revoked: Iterable[str] = (),
    ) -> Authenticator:
        """(digest, principal, role) of callers bound to no account: they trade nothing."""
        return cls(((digest, Principal(name, _NONE, _NONE, role)) for digest, name, role in keys),
                   expires=expires, revoked=revoked)  # fmt: skip

    def add(self, keys: Iterable[tuple[str, str, Role]], *, expires: Expiries | None = None,
            revoked: Iterable[str] = ()) -> None:  # fmt: skip
        """Admit read-only callers (digest, principal, role) beside the trading keys: an
        edge's own keys, registered once as it starts, before it serves anyone."""
        self._revoked |= frozenset(revoked)
        self._admit(((d, Principal(name, _NONE, _NONE, role)) for d, name, role in keys),
                    expires or {})  # fmt: skip

    def expired(self, principal: Principal) -> bool:
        """Whether `principal`'s key has reached its `not_after`."""
        ends = self._expires.get(principal)
        return ends is not None and self._clock() >= ends

    def known(self, caller: object) -> Principal | None:
        """The principal of a caller already seen (a dict lookup: never hashes)."""
        if caller.__class__ is Principal:
            p = caller if caller in self._issued else None
        else:
            p = self._known.get(caller) if isinstance(caller, str) else None
        return None if p is None or (self._expires and self.expired(p)) else p

    def resolve(self, caller: object) -> Principal | None:
        """`caller` as a principal: one this authenticator issued, or a key it knows."""
        if caller.__class__ is Principal:
            p = caller if caller in self._issued else None
            return None if p is None or (self._expires and self.expired(p)) else p
        return self.principal(caller)

    def principal(self, api_key: object) -> Principal | None:
        """Who `api_key` is; None for an unknown, revoked or expired key or anything that
        is not a plain str (None, bytes, a list: never a TypeError out of the lookup)."""
        found = self._lookup(api_key)
        if found is None or (self._expires and self.expired(found)):
            return None
        return found

    def identify(self, api_key: object) -> Principal | Rejection:
        """Who `api_key` is, or why not: UNAUTHENTICATED (unknown), CREDENTIAL_REVOKED,
        CREDENTIAL_EXPIRED. What an edge answers a bearer token or a FIX Logon with."""
        found = self._lookup(api_key)
        if found is not None:
            if self._expires and self.expired(found):
                return _expired(found)
            return found
        digest = _digest(api_key)
        if digest is not None and any(hmac.compare_digest(r, digest) for r in self._revoked):
            return reject(RejectCode.CREDENTIAL_REVOKED, "this credential has been revoked",
                          "a key not in the config's `revoked` list", "a revoked key")  # fmt: skip
        return reject(RejectCode.UNAUTHENTICATED, "credential not recognised",
                      "a key registered for this listener", "unknown key")  # fmt: skip

    def _lookup(self, api_key: object) -> Principal | None:
        """The principal of a key admitted (expired or not), compared in constant time."""
        if api_key.__class__ is not str:
            return None
        assert isinstance(api_key, str)  # for mypy: the class check above is exact
        p = self._known.get(api_key)
        if p is not None:
            return p
        digest = _digest(api_key)
        if digest is None:
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
            why = self.identify(caller) if cls is str else None
            if isinstance(why, Rejection) and why.code is not RejectCode.UNAUTHENTICATED:
                return why  # revoked or expired: say so
            return reject(
                RejectCode.UNAUTHENTICATED,
                "API key not recognised",
                limit="registered API key",
                attempted="unknown key",
            )
        if self._expires:  # `expired`, inline: once an order; a session logged on before
            ends = self._expires.get(p)
            if ends is not None and self._clock() >= ends:
                return _expired(p)
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


def _digest(api_key: object) -> str | None:
    """The SHA-256 hex of a non-empty str key; None for anything else (a lone surrogate
    included: no key was ever registered as one)."""
    if api_key.__class__ is not str or not api_key:
        return None
    assert isinstance(api_key, str)  # for mypy: the class check above is exact
    try:
        return hash_key(api_key)
    except UnicodeEncodeError:
        return None


def _expired(p: Principal) -> Rejection:
    return reject(RejectCode.CREDENTIAL_EXPIRED, f"the credential of {p.name} has expired",
                  "its `not_after`", "a request after it")  # fmt: skip
