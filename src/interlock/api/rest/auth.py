"""REST callers and their roles: traders (the gateway's API keys, bound to accounts) and
read-only risk and operator keys (every account).

What each role may do is one table (`ALLOWED`), checked by one dependency per route, so
the permission of a route is read where the route is declared.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from interlock.api.bearer import ApiError, BearerKeys
from interlock.api.config import ServeConfig
from interlock.api.listeners import Role
from interlock.domain.reject import RejectCode, reject

bearer_scheme = HTTPBearer(auto_error=False, description="API key as a bearer token")


@dataclass(frozen=True, slots=True)
class Caller:
    name: str
    role: Role
    accounts: frozenset[str] | None  # None: every account (read-only roles)
    key: str = ""

    def sees(self, account: str) -> bool:
        return self.accounts is None or account in self.accounts


ALLOWED: dict[str, frozenset[Role]] = {
    "trade": frozenset({Role.TRADER}),
    "read_orders": frozenset({Role.TRADER, Role.RISK, Role.OPERATOR}),
    "read_positions": frozenset({Role.TRADER, Role.RISK, Role.OPERATOR}),
    "read_limits": frozenset({Role.TRADER, Role.RISK}),
}
"""Action -> roles allowed. Only traders trade: cancels go through the gateway's own
authorization, which knows trading keys only."""


def rest_keys(config: ServeConfig) -> BearerKeys[Caller]:
    traders = [
        (k.key_sha256, Caller(k.principal, Role.TRADER, k.accounts)) for k in config.api_keys
    ]
    readers = [(k.key_sha256, Caller(k.principal, k.role, None)) for k in config.rest.keys]
    return BearerKeys(traders + readers)


def allow(keys: BearerKeys[Caller], action: str) -> Callable[..., Caller]:
    """A dependency: the caller, if its role may do `action`; else 401 or 403."""
    roles = ALLOWED[action]

    def dependency(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
    ) -> Caller:
        key, caller = keys.require(credentials)
        if caller.role not in roles:
            raise ApiError(
                403,
                reject(
                    RejectCode.UNAUTHENTICATED,
                    f"role {caller.role.value} may not {action}",
                    f"roles {sorted(r.value for r in roles)}",
                    caller.role.value,
                ),
            )
        return Caller(caller.name, caller.role, caller.accounts, key)

    return dependency
