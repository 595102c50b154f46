"""Who may do what on the admin listener: one table of roles per action, one dependency.

Admin tokens are operators (every fleet action), readers (views only) or risk (views,
and limit changes: propose, approve, decline; nobody else may; operators and risk both
reload the ADV file). An unknown token is
401 UNAUTHENTICATED; a known one whose role may not do the action is 403 UNAUTHENTICATED,
the REST edge's answer to the same question (api/rest/auth.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from interlock.api.bearer import ApiError, bearer_principal
from interlock.api.listeners import AdminTokenConfig
from interlock.domain.reject import RejectCode, reject
from interlock.gateway.auth import Authenticator, Principal, Role, expiries

bearer_scheme = HTTPBearer(auto_error=False, description="admin token as a bearer token")

ALLOWED: dict[str, frozenset[Role]] = {
    "read": frozenset({Role.OPERATOR, Role.READER, Role.RISK}),
    "operate": frozenset({Role.OPERATOR}),
    "change limits": frozenset({Role.RISK}),
    "reload reference data": frozenset({Role.OPERATOR, Role.RISK}),
}
"""Action -> roles allowed: views are `read`; deploys, halts and flag changes `operate`;
limit changes `change limits` (the gateway checks the role again, and four eyes); the ADV
file's reload `reload reference data` (operator or risk)."""


def admin_authenticator(
    tokens: list[AdminTokenConfig], revoked: frozenset[str] = frozenset()
) -> Authenticator:
    """Admin tokens only: a trading or REST key is unknown here. A revoked or expired
    token is refused like an unknown one, with its own code (CREDENTIAL_REVOKED/EXPIRED)."""
    return Authenticator.readers(((t.token_sha256, t.principal, t.role) for t in tokens),
                                 expires=expiries((t.token_sha256, t.not_after) for t in tokens),
                                 revoked=revoked)  # fmt: skip


def allow(auth: Authenticator, action: str) -> Callable[..., Principal]:
    """A dependency: the caller, if its role may do `action`; else 401 or 403."""
    roles = ALLOWED[action]

    def dependency(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
    ) -> Principal:
        caller = bearer_principal(auth, credentials)
        if caller.role not in roles:
            raise ApiError(403, reject(RejectCode.UNAUTHENTICATED,
                                       f"role {caller.role.value} may not {action}",
                                       f"roles {sorted(r.value for r in roles)}",
                                       caller.role.value))  # fmt: skip
        return caller

    return dependency
