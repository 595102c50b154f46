"""Limit-change routes on the admin listener: list, propose, approve, decline.

Each is one call of the gateway's `limit_changes` (gateway/limit_changes.py) as the
token's principal, which holds the rules: a risk token proposes, approves and declines
(anyone else: 403 UNAUTHENTICATED, here and again in the gateway); the proposer of a raise
may not approve it (403 FOUR_EYES_REQUIRED). Tokens are told apart by principal, not by
token: two tokens of one principal are one person. A change the limits model refuses is
422 CONFIG_INVALID naming the key; an unknown, closed or expired change 404; a raise the
limits moved under 409 LIMIT_CHANGE_STALE; a journal that is down 503.
"""

# No `from __future__ import annotations`: FastAPI resolves the route annotations.
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, FastAPI
from fastapi import Path as PathParam
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from interlock.api.bearer import ApiError
from interlock.api.rest.models import RejectBody
from interlock.api.rest.status import COMMAND_STATUS
from interlock.domain.reject import RejectCode, Rejection
from interlock.gateway.auth import Principal
from interlock.gateway.gateway import Gateway
from interlock.gateway.limit_changes import LimitChange

_REFUSALS: dict[int | str, dict[str, object]] = {
    s: {"model": RejectBody} for s in (401, 403, 404, 409, 422, 503)
}
_STATUS = {RejectCode.CONFIG_INVALID: 422, RejectCode.UNAUTHENTICATED: 403,
           RejectCode.JOURNAL_UNAVAILABLE: 503, **COMMAND_STATUS}  # fmt: skip
ChangeId = Annotated[str, PathParam(min_length=1, max_length=64, description="e.g. LC-3")]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ItemIn(_In):
    path: str = Field(min_length=1, max_length=200, description="e.g. accounts.desk-7.max_position")
    value: StrictInt | str = Field(
        description="the new value: shares or a count as an integer, money as a decimal string"
    )


class LimitChangeIn(_In):
    items: list[ItemIn] = Field(min_length=1, max_length=32)
    reason: str = Field("", max_length=500, description="why, for the audit trail")


class DeclineIn(_In):
    reason: str = Field("", max_length=500)


class ItemView(BaseModel):
    path: str
    old: str
    new: str


class LimitChangeView(BaseModel):
    change_id: str
    status: str = Field(description="pending, applied, declined or expired")
    raises: bool = Field(description="loosens some limit: needs a second risk principal")
    items: list[ItemView]
    proposer: str
    reason: str
    proposed_ns: int
    expires_ns: int = Field(description="a pending raise expires then (0: a lowering)")
    approver: str
    declined_by: str
    closed_ns: int
    close_reason: str


class LimitChangesView(BaseModel):
    limits_digest: str = Field(description="the limits in force, as decisions cite them")
    changes: list[LimitChangeView] = Field(description="newest first")


def change_view(c: LimitChange) -> LimitChangeView:
    return LimitChangeView(
        change_id=c.change_id, status=c.status, raises=c.raises,
        items=[ItemView(path=i.path, old=i.old, new=i.new) for i in c.items],
        proposer=c.proposer, reason=c.reason, proposed_ns=c.proposed_ts,
        expires_ns=c.expires_ts, approver=c.approver, declined_by=c.closed_by,
        closed_ns=c.closed_ts, close_reason=c.close_reason,
    )  # fmt: skip


def _answer(result: LimitChange | Rejection) -> LimitChangeView:
    if isinstance(result, Rejection):
        raise ApiError(_STATUS.get(result.code, 409), result)
    return change_view(result)


def add_limit_routes(
    app: FastAPI,
    gateway: Gateway,
    reader: Callable[..., Principal],
    risk: Callable[..., Principal],
) -> None:
    Reader = Annotated[Principal, Depends(reader)]
    Risk = Annotated[Principal, Depends(risk)]
    changes = gateway.limit_changes

    @app.get("/limits/changes", responses=_REFUSALS)
    def list_changes(who: Reader) -> LimitChangesView:
        """Every limit change this instance journaled, with its status now."""
        return LimitChangesView(limits_digest=gateway.book.limits.digest(),
                                changes=[change_view(c) for c in changes.changes()])  # fmt: skip

    @app.post("/limits/changes", responses=_REFUSALS)
    def propose(body: LimitChangeIn, who: Risk) -> LimitChangeView:
        """Propose a change: a lowering applies now, a raise waits for another risk token."""
        items = [(i.path, i.value) for i in body.items]
        return _answer(changes.propose(who, items, body.reason))

    @app.post("/limits/changes/{change_id}/approve", responses=_REFUSALS)
    def approve(change_id: ChangeId, who: Risk) -> LimitChangeView:
        """Approve a pending raise (never the proposer's own): it applies at once."""
        return _answer(changes.approve(who, change_id))

    @app.post("/limits/changes/{change_id}/decline", responses=_REFUSALS)
    def decline(change_id: ChangeId, body: DeclineIn, who: Risk) -> LimitChangeView:
        """Close a pending raise for good."""
        return _answer(changes.decline(who, change_id, body.reason))
