"""The readiness verdict on the wire: what `/health` (REST) and `/preopen` (admin) show."""

from __future__ import annotations

from pydantic import BaseModel, Field

from interlock.gateway.gateway import Gateway
from interlock.observe.readiness import Readiness


class CauseView(BaseModel):
    check: str = Field(description="members, flags, journal, reference, venue or errors")
    text: str


class ReadinessView(BaseModel):
    instance_id: str
    ready: bool
    blocked: bool = Field(description="new orders are refused NOT_READY until acknowledged")
    checked_ns: int = Field(description="epoch ns of the look (0: not looked yet)")
    open_ns: int = Field(description="today's open on the calendar (0: none today)")
    errors: int = Field(description="unacknowledged error-level events counted")
    causes: list[CauseView]
    summary: str


def readiness_view(gateway: Gateway, verdict: Readiness | None) -> ReadinessView:
    """`verdict` (the latest look, or None) as /preopen and /health show it."""
    watch = gateway.preopen
    blocked = watch.refusal is not None
    if verdict is None:
        return ReadinessView(
            instance_id=gateway.instance_id,
            ready=False,
            blocked=blocked,
            checked_ns=0,
            open_ns=0,
            errors=0,
            causes=[],
            summary="NOT CHECKED: the readiness watch has not looked yet",
        )
    return ReadinessView(
        instance_id=gateway.instance_id,
        ready=verdict.ready,
        blocked=blocked,
        checked_ns=verdict.at,
        open_ns=watch.open_at(verdict.at) or 0,
        errors=verdict.warnings,
        causes=[CauseView(check=c.check, text=c.text) for c in verdict.causes],
        summary=verdict.summary(),
    )
