"""Configuration of the transports: the REST order port, the admin (kill-switch) port and
the FIX acceptor, the `[rest]`, `[admin]` and `[fix]` tables of the one config file.

They live in api/, beside the transports that read them: the gateway knows none of its
transports (api/config.py joins these to the gateway's settings). The two HTTP listeners
have separate credentials on purpose: the kill switch must stay reachable when the order
path is sick, and a leaked trading key must not be able to lift a halt (nor an admin token
place an order). Both default to loopback; credentials are stored only as SHA-256 digests.
"""

from __future__ import annotations

import ipaddress
from typing import Annotated

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    StrictInt,
    field_validator,
    model_serializer,
    model_validator,
)

from interlock.gateway.auth import Role  # what a caller may do: one definition, the gateway's
from interlock.gateway.config import without_unset_expiry

_NOT_AFTER = "ISO timestamp with a zone; refused from then on (CREDENTIAL_EXPIRED)"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RestKeyConfig(_Model):
    """A read-only REST caller (risk or operator): sees every account, places nothing."""

    principal: str = Field(min_length=1, description="who the caller is")
    key_sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="sha256 hex of the API key")
    role: Role = Field(description="`risk` or `operator`; traders are the top-level api_keys")
    not_after: AwareDatetime | None = Field(None, description=_NOT_AFTER)

    @field_validator("role")
    @classmethod
    def _not_trader(cls, v: Role) -> Role:
        if v is Role.TRADER:
            raise ValueError("trader keys are the top-level api_keys (they carry accounts)")
        if v is Role.READER:
            raise ValueError("reader is an admin token's role; REST's read-only role is risk")
        return v

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler) -> dict[str, object]:
        return without_unset_expiry(self, handler)


class AdminTokenConfig(_Model):
    """A caller of the admin listener: an operator acts on the fleet (deploys, halts,
    flags); a reader only sees it (fleet, readiness, halts, flags); risk sees it and
    proposes, approves and declines limit changes."""

    principal: str = Field(min_length=1, description="who acts, in the halt and flag records")
    token_sha256: str = Field(
        pattern=r"^[0-9a-f]{64}$", description="sha256 hex of the admin bearer token"
    )
    role: Role = Field(
        Role.OPERATOR, description="`operator` (every fleet action), `reader` or `risk`"
    )
    not_after: AwareDatetime | None = Field(None, description=_NOT_AFTER)

    @field_validator("role")
    @classmethod
    def _admin_role(cls, v: Role) -> Role:
        if v not in (Role.OPERATOR, Role.READER, Role.RISK):
            raise ValueError("an admin token is an operator, a reader or risk")
        return v

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler) -> dict[str, object]:
        """An operator token dumps as it did before the reader role existed, so the config
        digest of every file without readers is unchanged (the attestation compares it)."""
        data = without_unset_expiry(self, handler)
        if self.role is Role.OPERATOR:
            data.pop("role", None)
        return data


def _ip_address(v: str) -> str:
    try:
        ipaddress.ip_address(v)
    except ValueError:
        raise ValueError(f"not an IP address: {v!r}") from None
    return v


IpAddress = Annotated[str, AfterValidator(_ip_address)]

_TLS_FIELDS = ("tls_cert", "tls_key", "tls_ca")


class _TlsListener(_Model):
    """TLS on a listener: a certificate chain and its key (PEM files), and optionally a CA
    whose client certificates alone may connect (mutual TLS). Unset, the listener is plain
    TCP (loopback by default). The files are read at start-up (api/tls.py), before any
    port opens, so a missing, unreadable or mismatched file stops serve with TLS_INVALID."""

    tls_cert: str | None = Field(
        None, description="PEM certificate chain served on this port; unset: no TLS"
    )
    tls_key: str | None = Field(None, description="PEM private key of `tls_cert`")
    tls_ca: str | None = Field(
        None, description="PEM CA bundle: when set, clients must present a certificate it signed"
    )

    @model_validator(mode="after")
    def _tls_pair(self) -> _TlsListener:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("tls_cert and tls_key are set together or not at all")
        if self.tls_ca is not None and self.tls_cert is None:
            raise ValueError("tls_ca (client certificates) needs tls_cert and tls_key")
        return self

    @property
    def tls(self) -> bool:
        return self.tls_cert is not None

    @model_serializer(mode="wrap")
    def _dump_tls(self, handler: SerializerFunctionWrapHandler) -> dict[str, object]:
        """Unset TLS keys are left out of the dump, so the digest of every file written
        before TLS existed is unchanged (the attestation compares it)."""
        data: dict[str, object] = handler(self)
        for name in _TLS_FIELDS:
            if data.get(name) is None:
                data.pop(name, None)
        return data


class RestConfig(_TlsListener):
    """The REST order port (FastAPI)."""

    host: IpAddress = Field("127.0.0.1", description="IP address to listen on (loopback default)")
    port: StrictInt = Field(8640, ge=0, le=65535, description="TCP port; 0 picks a free one")
    keys: list[RestKeyConfig] = Field(
        default_factory=list, description="risk and operator keys (read-only callers)"
    )
    ack_timeout_ms: StrictInt = Field(
        5_000, gt=0, description="longest POST /orders waits for its decision to be durable"
    )


class AdminConfig(_TlsListener):
    """The admin listener: the kill switch on its own port, thread and credentials."""

    host: IpAddress = Field("127.0.0.1", description="IP address to listen on (loopback default)")
    port: StrictInt = Field(8641, ge=0, le=65535, description="TCP port; 0 picks a free one")
    tokens: list[AdminTokenConfig] = Field(
        default_factory=list, description="admin bearer tokens; none means nobody can halt"
    )


# -- FIX acceptor (the transport itself is the optional `fix` extra: interlock.api.fix) --


class FixLogin(_Model):
    """One counterparty session on the FIX acceptor, logging on with an API key.

    Its credentials are the gateway's own: Username (553) is an API key's principal and
    Password (554) the key, checked by the gateway's Authenticator, so a FIX login never
    outlives the API key it rides on."""

    comp_id: str = Field(description="The desk's SenderCompID (our TargetCompID).")
    username: str = Field(description="Principal name the Logon's Username must carry.")
    account: str = Field(description="Account for orders that carry no Account (1).")
    strategy: str = Field(description="Strategy every order of this session is booked to.")
    cancel_on_disconnect: bool = Field(
        default=True, description="Cancel the session's working orders when it drops."
    )


def _ipv4_address(v: str) -> str:
    try:
        ipaddress.IPv4Address(v)
    except ValueError:
        raise ValueError(
            f"not an IPv4 address: {v!r} (QuickFIX reads peer addresses as IPv4 only)"
        ) from None
    return v


class FixAcceptorConfig(_TlsListener):
    """The acceptor's listener and its sessions."""

    comp_id: str = Field(default="INTERLOCK", description="Our SenderCompID.")
    host: Annotated[str, AfterValidator(_ipv4_address)] = Field(
        "127.0.0.1", description="IPv4 address to listen on (loopback default)"
    )
    port: StrictInt = Field(
        ge=0, le=65535, description="TCP port; 0 picks a free one (serve announces it)"
    )
    sessions: tuple[FixLogin, ...] = Field(description="Counterparties that may log on.")
    heartbeat_s: StrictInt = Field(default=30, gt=0, description="HeartBtInt we expect.")
    file_log: bool = Field(default=True, description="Write QuickFIX message logs to disk.")
