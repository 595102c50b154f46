"""The `[limit_changes]` config section: how long a proposed raise waits for approval, how
long a fleet waits for its members to apply a change."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, StrictInt


class LimitChangeConfig(BaseModel):
    """Four-eyes limit changes (docs/limit-changes.md)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    pending_ttl_ms: StrictInt = Field(
        3_600_000,
        gt=0,
        le=7 * 86_400_000,
        description="a proposed raise not approved within this long expires (a lowering "
        "applies at once and never waits)",
    )
    fleet_apply_ms: StrictInt = Field(
        5_000,
        gt=0,
        le=600_000,
        description="in a fleet, how long a lowering waits for every live member to apply "
        "it before it is released without the ones that did not (they are fenced)",
    )
