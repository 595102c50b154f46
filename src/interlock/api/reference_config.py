"""Where reference prices come from: the `[reference]` table of the config file.

Every order is judged against a fresh reference (REFERENCE_PRICE_STALE, PRICE_COLLAR), so
its source is configured explicitly. `simulated`: the simulated venue's own mids (demos
only, refused with a FIX venue). `venue`: the venue's market data (with a FIX venue, a
MarketDataRequest for every configured instrument; with the simulated venue, its mids).
`feed`: a price publisher pushes marks to an authenticated loopback HTTP port
(`[reference.feed]`, api/reference_feed.py). Marks are stamped on receipt either way.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, model_validator

from interlock.api.listeners import IpAddress


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FeedConfig(_Model):
    """The mark feed's listener: `POST /marks` with a bearer token."""

    host: IpAddress = Field("127.0.0.1", description="IP address to listen on (loopback default)")
    port: StrictInt = Field(ge=0, le=65535, description="TCP port; 0 picks a free one")
    publishers: list[str] = Field(
        min_length=1,
        description="sha256 hex digests of the bearer tokens a price publisher may push with",
    )

    @model_validator(mode="after")
    def _digests(self) -> FeedConfig:
        for d in self.publishers:
            if len(d) != 64 or any(c not in "0123456789abcdef" for c in d):
                raise ValueError(f"publishers: not a sha256 hex digest: {d[:70]!r}")
        return self


class ReferenceConfig(_Model):
    """The source of the reference prices every order is judged against."""

    source: Literal["simulated", "venue", "feed"] = Field(
        "simulated", description="`simulated` (demo venue only), `venue` or `feed`"
    )
    feed: FeedConfig | None = Field(None, description="the mark feed, when source = `feed`")

    @model_validator(mode="after")
    def _feed_iff_feed(self) -> ReferenceConfig:
        if self.source == "feed" and self.feed is None:
            raise ValueError("source = 'feed' needs a [reference.feed] table (port, publishers)")
        if self.source != "feed" and self.feed is not None:
            raise ValueError(f"a [reference.feed] table with source = {self.source!r} is unused")
        return self
