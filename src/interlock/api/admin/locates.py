"""Locate routes on the admin listener (Reg SHO 203(b)): an operator adds the locates the
stock-loan desk arranged; any reader lists them with what is used and held.

`POST /locates` (operator) journals the locate (gateway `add_locate`: `LocateAdded`) and
answers it as the instance now holds it; a malformed one is 422 SCHEMA_INVALID, a reused
id on other terms 409 LOCATE_CONFLICT. `GET /locates` (reader) lists every locate.
"""

# No `from __future__ import annotations`: FastAPI resolves the route annotations.
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, FastAPI
from pydantic import BaseModel, ConfigDict, Field

from interlock.api.bearer import ApiError
from interlock.api.rest.models import RejectBody
from interlock.domain.reject import RejectCode
from interlock.gateway.auth import Principal
from interlock.gateway.gateway import Gateway
from interlock.risk.locates import Locate

_REFUSALS: dict[int | str, dict[str, object]] = {
    401: {"model": RejectBody},
    403: {"model": RejectBody},
    409: {"model": RejectBody},
    422: {"model": RejectBody},
}


class LocateIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    locate_id: str = Field(min_length=1, max_length=64, description="names this locate for good")
    account: str = Field(min_length=1, max_length=64, description="the one account it serves")
    symbol: str = Field(min_length=1, max_length=32)
    quantity: int = Field(gt=0, description="shares located")
    expires_ns: int = Field(gt=0, description="end of the locate, UTC ns (gateway clock)")
    source: str = Field(min_length=1, max_length=128, description="who lends the shares")


class LocateView(BaseModel):
    locate_id: str
    account: str
    symbol: str
    quantity: int
    used: int = Field(description="shares short-sale fills have used")
    reserved: int = Field(description="shares open short sales hold")
    expires_ns: int
    source: str
    who: str


def locate_view(loc: Locate) -> LocateView:
    return LocateView(locate_id=loc.locate_id, account=loc.account, symbol=loc.symbol,
                      quantity=loc.quantity, used=loc.used, reserved=loc.reserved,
                      expires_ns=loc.expires_ns, source=loc.source, who=loc.who)  # fmt: skip


def add_locate_routes(
    app: FastAPI,
    gateway: Gateway,
    reader: Callable[..., Principal],
    operator: Callable[..., Principal],
) -> None:
    Reader = Annotated[Principal, Depends(reader)]
    Operator = Annotated[Principal, Depends(operator)]

    @app.post("/locates", responses=_REFUSALS)
    def add(body: LocateIn, who: Operator) -> LocateView:
        """Add a locate: journaled, in force for its account's short sales until it expires."""
        refusal = gateway.add_locate(body.locate_id, body.account, body.symbol, body.quantity,
                                     body.expires_ns, body.source, who.name)  # fmt: skip
        if refusal is not None:
            status = 409 if refusal.code is RejectCode.LOCATE_CONFLICT else 422
            raise ApiError(status, refusal)
        return next(locate_view(x) for x in gateway.locates() if x.locate_id == body.locate_id)

    @app.get("/locates", responses=_REFUSALS)
    def listing(who: Reader) -> list[LocateView]:
        """Every locate, with what fills used and open short sales hold."""
        return [locate_view(x) for x in gateway.locates()]
