"""Who may log on to the FIX acceptor, and as what.

A desk's credentials are the gateway's own: Username (553) is the principal name of an
API key and Password (554) is that key, checked by the gateway's Authenticator. Nothing
here stores a secret, so a FIX login can never outlive the API key it rides on.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class FixLogin(BaseModel):
    """One counterparty session on the acceptor."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    comp_id: str = Field(description="The desk's SenderCompID (our TargetCompID).")
    username: str = Field(description="Principal name the Logon's Username must carry.")
    account: str = Field(description="Account for orders that carry no Account (1).")
    strategy: str = Field(description="Strategy every order of this session is booked to.")
    cancel_on_disconnect: bool = Field(
        default=True, description="Cancel the session's working orders when it drops."
    )


class FixAcceptorConfig(BaseModel):
    """The acceptor's listener and its sessions."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    comp_id: str = Field(default="INTERLOCK", description="Our SenderCompID.")
    port: int = Field(description="TCP port on 127.0.0.1 (0 is not allowed by QuickFIX).")
    sessions: tuple[FixLogin, ...] = Field(description="Counterparties that may log on.")
    heartbeat_s: int = Field(default=30, description="HeartBtInt we expect.")
    file_log: bool = Field(default=True, description="Write QuickFIX message logs to disk.")
