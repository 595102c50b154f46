"""REST callers and their roles: traders (the gateway's API keys, bound to accounts) and
read-only risk and operator keys (every account).

A bearer key is resolved once per request, through the gateway's own Authenticator, to a
`Principal` (its role included); the route passes that principal to the gateway, which
does not look the key up again. What each role may do is one table (`ALLOWED`), checked
by one dependency per route, so the permission of a route is read where it is declared.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from interlock.api.bearer import ApiError, bearer_principal
from interlock.domain.reject import RejectCode, reject
from interlock.gateway.auth import Authenticator, Principal, Role

bearer_scheme = HTTPBearer(auto_error=False, description="API key as a bearer token")

ALLOWED: dict[str, frozenset[Role]] = {
    "trade": frozenset({Role.TRADER}),
    "read_orders": frozenset({Role.TRADER, Role.RISK, Role.OPERATOR}),
    "read_positions": frozenset({Role.TRADER, Role.RISK, Role.OPERATOR}),
    "read_limits": frozenset({Role.TRADER, Role.RISK}),
}
"""Action -> roles allowed. Only traders trade: read-only keys hold no account, so the
gateway would refuse their orders and cancels too."""


def allow(auth: Authenticator, action: str) -> Callable[..., Principal]:
    """A dependency: the caller, if its role may do `action`; else 401 or 403."""
    roles = ALLOWED[action]

    def dependency(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
    ) -> Principal:
        caller = bearer_principal(auth, credentials)
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
        return caller

    return dependency
