"""The `[limit_changes]` config section: how long a proposed raise waits for approval."""

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
