"""Admin wire models: halt and resume requests, halt reports, fleet and halt views (deploy
and flag models are in `plane_models.py`)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.config import JsonDict

from interlock.domain.enums import HaltScope

_TARGET_BY_SCOPE: JsonDict = {
    # the validator's rule, published: a global halt (the default scope) has no target
    "if": {"properties": {"scope": {"const": "global"}}},
    "then": {"properties": {"target": {"const": ""}}},
    "else": {"required": ["target"], "properties": {"target": {"minLength": 1}}},
}


class HaltIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra=_TARGET_BY_SCOPE)

    scope: HaltScope = HaltScope.GLOBAL
    target: str = Field("", max_length=64, description="empty for a global halt")
    reason: str = Field(min_length=1, max_length=500, description="why, in the halt record")

    @model_validator(mode="after")
    def _target_matches_scope(self) -> HaltIn:
        if (self.scope is HaltScope.GLOBAL) != (self.target == ""):
            raise ValueError("a global halt has no target; every other scope needs one")
        return self


class ResumeIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    scope: HaltScope = HaltScope.GLOBAL
    target: str = Field("", max_length=64)


class HaltView(BaseModel):
    scope: HaltScope
    target: str
    reason: str
    who: str
    ts_ns: int


class HaltReportView(BaseModel):
    """What an operator reads after a halt: "1/1 halted in 0.4 ms", with "; N orders
    pending cancel" when the venue has yet to confirm some of the covered cancels."""

    halt: HaltView
    summary: str
    expected: list[str]
    confirmed: list[str]
    missing: list[str]
    lost: list[str]
    elapsed_ms: float
    complete: bool
    pending_cancel: int = Field(
        0, description="covered orders whose cancel the venue had not confirmed yet"
    )


class ResumeView(BaseModel):
    lifted: bool = Field(description="false when no such halt was in force")


class MemberView(BaseModel):
    """A live member: its attestation, lease, gate and the flag registry's verdict."""

    instance_id: str
    build_digest: str
    flag_digest: str
    config_digest: str = Field(description="the fleet-wide settings it attests")
    host: str
    pid: int
    lease_left_ms: int
    gate: str = Field(
        description="this instance: 'routing' or the code it refuses orders with; another "
        "member: 'attested', or INSTANCE_NOT_ATTESTED when its build, flags or manifest "
        "disagree with the release (as the plane judges its attestation)"
    )
    flag_refusal: str = Field(description="why the flag registry refuses its manifest, or ''")


class ProposalView(BaseModel):
    build_digest: str
    flag_digest: str
    members: list[str]
    base_epoch: int
    who: str
    ts_ns: int


class FleetView(BaseModel):
    build_digest: str
    flag_digest: str
    config_digest: str = Field(description="the released config; empty approves any")
    epoch: int
    release_members: list[str] = Field(description="members the release was committed with")
    members: list[MemberView]
    this_instance: str
    this_gate: str = Field(description="'routing', or the code orders are refused with")
    proposal: ProposalView | None = Field(None, description="the pending deploy, if any")
    halts: list[HaltView] = Field(default_factory=list, description="halts in force")
