"""Where orders go: the `[venue]` table of the config file.

It lives beside the venues (not in api/) because the instance builder (instance.py) opens
the venue from it, and the builder sits below the transports. `kind = "simulated"` is the
seeded in-process exchange (demos and tests: serve says so loudly); `kind = "fix"` is a
QuickFIX initiator session to a real venue, whose `[venue.fix]` table is required then.
`[venue.drop_copy]` (optional, FIX venues only) is the venue's drop copy: a second,
read-only session whose execution reports are compared with what this instance released
(docs/drop-copy.md).
"""

from __future__ import annotations

import ipaddress
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictInt, model_validator

_COMP_ID = r"^[A-Za-z0-9_.-]{1,32}$"


def _ipv4(v: str) -> str:
    try:
        ipaddress.IPv4Address(v)
    except ValueError:
        raise ValueError(f"not an IPv4 address: {v!r}") from None
    return v


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FixVenueConfig(_Model):
    """One FIX initiator session to the venue (FIX 4.4)."""

    host: Annotated[str, AfterValidator(_ipv4)] = Field(
        "127.0.0.1", description="IPv4 address of the venue's FIX acceptor"
    )
    port: StrictInt = Field(ge=1, le=65535, description="TCP port of the venue's FIX acceptor")
    sender_comp_id: str = Field(pattern=_COMP_ID, description="our SenderCompID (49)")
    target_comp_id: str = Field(pattern=_COMP_ID, description="the venue's CompID (56)")
    begin_string: Literal["FIX.4.4"] = Field("FIX.4.4", description="FIX version (8)")
    heartbeat_s: StrictInt = Field(30, gt=0, le=3600, description="HeartBtInt (108), seconds")
    reconnect_s: StrictInt = Field(
        5, gt=0, le=3600, description="seconds between reconnect attempts while down"
    )
    store_dir: str | None = Field(
        None,
        min_length=1,
        description="QuickFIX file store (sequence numbers survive restarts); none: "
        "`fix-venue/` beside the journal",
    )
    logon_timeout_ms: StrictInt = Field(
        10_000, gt=0, description="serve refuses to start without a Logon within this"
    )
    file_log: bool = Field(True, description="write QuickFIX message logs beside the store")


class DropCopyConfig(FixVenueConfig):
    """The venue's drop-copy session, read-only: the keys of `[venue.fix]`, for its acceptor.

    A FIX initiator like the order-entry session, to the venue's drop-copy acceptor, that
    only listens (it never sends an order); every execution report on it must belong to
    an order this instance released (docs/drop-copy.md)."""

    store_dir: str | None = Field(
        None,
        min_length=1,
        description="QuickFIX file store of the session; none: `fix-drop-copy/` beside the journal",
    )
    logon_timeout_ms: StrictInt = Field(
        10_000,
        gt=0,
        description="how long the start waits for its Logon; past it the instance trades "
        "blind, says so on /health and alerts (it does not refuse to start)",
    )
    confirm_within_ms: StrictInt | None = Field(
        5_000,
        gt=0,
        description="a fill of ours on the drop copy must also come on the order-entry "
        "session (same ExecID) within this, else it is a break; none: not checked (a venue "
        "whose drop copy numbers executions its own way)",
    )


class VenueConfig(_Model):
    """The venue this instance routes to."""

    kind: Literal["simulated", "fix"] = Field(
        "simulated", description="`simulated`: the in-process demo exchange; `fix`: a venue"
    )
    fix: FixVenueConfig | None = Field(None, description="the session, when kind = `fix`")
    drop_copy: DropCopyConfig | None = Field(
        None,
        description="the venue's drop-copy session (FIX venues only): executions nobody "
        "released through this instance halt",
        exclude_if=lambda v: v is None,  # absent: the digest of a file from before it
    )

    @model_validator(mode="after")
    def _session_iff_fix(self) -> VenueConfig:
        if self.kind == "fix" and self.fix is None:
            raise ValueError("kind = 'fix' needs a [venue.fix] table (port, comp ids)")
        if self.kind == "simulated" and self.fix is not None:
            raise ValueError("a [venue.fix] table with kind = 'simulated' would be ignored")
        if self.drop_copy is not None:
            if self.fix is None:
                raise ValueError("a [venue.drop_copy] session needs a FIX venue (kind = 'fix')")
            dc, oe = self.drop_copy, self.fix
            if (dc.sender_comp_id, dc.target_comp_id) == (oe.sender_comp_id, oe.target_comp_id):
                raise ValueError("[venue.drop_copy] must be another session than [venue.fix]: "
                                 "give it its own sender_comp_id or target_comp_id")  # fmt: skip
        return self
