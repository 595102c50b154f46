"""Pre-open readiness routes on the admin listener: the verdict, and a person's
acknowledgement that opens anyway.

`GET /preopen` (reader) looks now (real state, gateway/preopen.py) and answers every cause;
`POST /preopen/ack` (operator) acknowledges the causes and every error-level alert so far,
lifts a block at the open, and journals who did it, when and over which causes.
"""

# No `from __future__ import annotations`: FastAPI resolves the route annotations.
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, FastAPI
from pydantic import BaseModel, Field

from interlock.api.readiness_view import ReadinessView, readiness_view
from interlock.api.rest.models import RejectBody
from interlock.gateway.auth import Principal
from interlock.gateway.gateway import Gateway

_REFUSALS: dict[int | str, dict[str, object]] = {
    401: {"model": RejectBody},
    403: {"model": RejectBody},
}


class AckView(BaseModel):
    who: str
    ts_ns: int
    causes: list[str] = Field(description="what the person opened over, `check: text` each")
    alerts: int = Field(description="error-level alerts acknowledged")
    lifted: bool = Field(description="a block at the open was lifted")
    seq: int = Field(description="the journal record of the acknowledgement")
    readiness: ReadinessView


def add_preopen_routes(
    app: FastAPI,
    gateway: Gateway,
    reader: Callable[..., Principal],
    operator: Callable[..., Principal],
) -> None:
    Reader = Annotated[Principal, Depends(reader)]
    Operator = Annotated[Principal, Depends(operator)]

    @app.get("/preopen", responses=_REFUSALS)
    def preopen(who: Reader) -> ReadinessView:
        """Look now: every cause that blocks "ready", each named."""
        return readiness_view(gateway, gateway.preopen.look())

    @app.post("/preopen/ack", responses=_REFUSALS)
    def acknowledge(who: Operator) -> AckView:
        """Open anyway: acknowledge the causes and alerts so far, lift a block, journal it."""
        a = gateway.preopen.acknowledge(who.name)
        return AckView(
            who=a.who,
            ts_ns=a.ts,
            causes=list(a.causes),
            alerts=a.alerts,
            lifted=a.lifted,
            seq=a.seq,
            readiness=readiness_view(gateway, gateway.preopen.verdict),
        )
