"""The `[preopen]` config section: when the readiness gate counts from, what "not ready at
the open" does to routing, and where pages go.

The open itself is the calendar's (`[calendar]` continuous start of each trading day,
`gateway/calendar_config.py`): one place for the session times. An always-open calendar
has no open, so the gate then answers (`/health`, `interlock preopen`) but never blocks.
Reference prices are fresh by the collar's own bound (`limits.collar.reference_max_age_ms`).
"""

from __future__ import annotations

from datetime import time
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, field_validator


class PreOpenConfig(BaseModel):
    """The pre-open readiness gate (docs/operations.md, the morning runbook)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    since: time = Field(
        time(8, 0),
        description="local time (calendar zone) from which unacknowledged error-level "
        "events count against readiness",
    )
    block_at_open: bool = Field(
        True, description="not ready at the open: refuse new orders NOT_READY (cancels pass)"
    )
    until: Literal["ack", "clear"] = Field(
        "ack",
        description="a block lasts until a person acknowledges (`ack`), or until then or "
        "the causes clear (`clear`)",
    )
    check_interval_ms: StrictInt = Field(
        500, gt=0, le=60_000, description="how often the gate looks at the instance's state"
    )
    on_call: str = Field("trading-ops on-call", min_length=1, description="who pages go to")
    webhook_url: str | None = Field(
        None, description="pages are POSTed here as JSON (none: they are only logged)"
    )
    webhook_retries: StrictInt = Field(
        3, ge=0, le=10, description="retries of a failed POST before the page is dropped"
    )
    webhook_timeout_ms: StrictInt = Field(2_000, gt=0, le=30_000, description="each POST's timeout")

    @field_validator("since")
    @classmethod
    def _naive(cls, v: time) -> time:
        if v.tzinfo is not None:
            raise ValueError("give a local time without an offset: the zone is calendar's")
        return v

    @field_validator("webhook_url")
    @classmethod
    def _http(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith(("http://", "https://")):
            raise ValueError(f"webhook_url must be an http:// or https:// URL, got {v[:60]!r}")
        return v
