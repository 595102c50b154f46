"""Admin wire models for acting on the control plane: deploy steps and flag changes."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from interlock.api.admin.models import ProposalView


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProposeIn(_In):
    build_digest: str = Field(min_length=1, max_length=128, description="the build to deploy")
    flag_digest: str = Field(
        "",
        max_length=128,
        description="its flag-manifest digest ('' with `source`: the "
        "digest of the manifest that source makes)",
    )
    members: list[str] = Field(
        default_factory=list, max_length=256,
        description="the members that must restart on it and attest; empty: every live member",
    )  # fmt: skip
    config_digest: str | None = Field(
        None, max_length=128,
        description="the fleet config it releases (GatewayConfig.fleet_digest); none: the "
        "released one's",
    )  # fmt: skip
    source: list[Annotated[str, Field(min_length=1, max_length=4096)]] = Field(
        default_factory=list, max_length=64,
        description="the build's Python source on this member's host: the flag release gate "
        "(linter, manifest check against the plane's registry, flag digest) judges it",
    )  # fmt: skip


class AbortIn(_In):
    reason: str = Field("aborted by the operator", min_length=1, max_length=500)


class RollbackIn(_In):
    members: list[str] = Field(
        default_factory=list, max_length=256,
        description="expected members; empty: the current release's, else every live member",
    )  # fmt: skip


class ReadinessView(BaseModel):
    instance_id: str
    attests: str | None = Field(description="'build X, flags Y' it attests; null: no lease")
    ready: bool


class DeployView(BaseModel):
    """A pending deploy and who attests it yet."""

    proposal: ProposalView
    readiness: list[ReadinessView]


class ReleaseView(BaseModel):
    build_digest: str
    flag_digest: str
    epoch: int
    members: list[str]


class RollbackView(BaseModel):
    """The release a rollback goes back to, and the deploy proposed for it."""

    to: ReleaseView
    deploy: DeployView


class FlagView(BaseModel):
    name: str
    flag_id: int
    meaning: str
    owner: str
    created_ns: int
    enabled: bool
    retired_at_ns: int | None
    retired_by: str | None


class RegisterIn(_In):
    name: str = Field(min_length=1, max_length=64)
    flag_id: int = Field(ge=1, le=2**31 - 1)
    meaning: str = Field(min_length=1, max_length=500)
    owner: str = Field(min_length=1, max_length=64)


class FlagChangeView(BaseModel):
    flag: FlagView
    changed: bool = Field(description="false when it was already so (nothing announced)")
    live_members: list[str] = Field(description="the live members the plane judged")
