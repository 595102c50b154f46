"""`[control_plane]`: which control plane `interlock serve` joins, and how to reach it.

`embedded` (the default) keeps the plane inside the process: a fleet of one. `etcd://h1:p1,
h2:p2,h3:p3` joins the fleet kept in that etcd cluster under `prefix`, with TLS and a user
whose password is read from an environment variable (never from the file, which is
digested, logged and copied around). `--control-plane` on the command line overrides `url`.

The etcd client (etcd3gw, requests) is imported only for an `etcd://` url: an embedded
serve, and every serve test that starts one, never pays for it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, StrictInt, field_validator, model_validator

from interlock.control.embedded import EmbeddedControlPlane
from interlock.control.ports import ControlPlane
from interlock.errors import ConfigError, ControlPlaneError

if TYPE_CHECKING:
    from interlock.control.etcd_client import EtcdAuth

EMBEDDED = "embedded"


class ControlPlaneConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str = Field(
        EMBEDDED, description="`embedded` (in this process) or `etcd://host:port,host:port,...`"
    )
    prefix: str = Field(
        "interlock/fleet", min_length=1, description="the fleet's key prefix in etcd"
    )
    user: str | None = Field(None, min_length=1, description="etcd user (with password_env)")
    password_env: str | None = Field(
        None, min_length=1, description="environment variable holding the etcd user's password"
    )
    ca_cert: Path | None = Field(None, description="CA bundle: reach etcd over TLS")
    cert: Path | None = Field(None, description="client certificate (with key), for mutual TLS")
    key: Path | None = Field(None, description="client certificate's private key")
    timeout_ms: StrictInt = Field(
        1_000, gt=0, le=30_000, description="longest one etcd request may take"
    )

    @field_validator("url")
    @classmethod
    def _known(cls, v: str) -> str:
        if v != EMBEDDED:
            from interlock.control.etcd_client import SCHEME, parse_endpoints

            if not v.startswith(SCHEME):
                raise ValueError(f"must be {EMBEDDED!r} or {SCHEME}host:port,...")
            try:
                parse_endpoints(v)
            except ControlPlaneError as exc:
                raise ValueError(str(exc)) from None
        return v

    @model_validator(mode="after")
    def _paired(self) -> ControlPlaneConfig:
        """The settings that only work together, all reported at once when the file is
        loaded (`interlock config check` too), not only when serve connects."""
        problems = pairing_problems(self)
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def embedded(self) -> bool:
        return self.url == EMBEDDED

    def auth(self) -> EtcdAuth:
        """TLS files and credentials, the password read from its variable now."""
        from interlock.control.etcd_client import EtcdAuth

        problems = pairing_problems(self)
        if problems:
            raise ConfigError("control_plane: " + "; ".join(problems))
        for name in ("ca_cert", "cert", "key"):
            path = getattr(self, name)
            if path is not None and not Path(path).is_file():
                raise ConfigError(f"control_plane.{name}: {path} is not a readable file")
        password = None
        if self.password_env is not None:
            password = os.environ.get(self.password_env)
            if password is None:
                raise ConfigError(f"control_plane.password_env: ${self.password_env} is not set")
            if not password:
                raise ConfigError(f"control_plane.password_env: ${self.password_env} is empty")
        return EtcdAuth(self.user, password, _text(self.ca_cert), _text(self.cert),
                        _text(self.key))  # fmt: skip


def pairing_problems(config: ControlPlaneConfig) -> list[str]:
    problems = []
    if (config.user is None) != (config.password_env is None):
        problems.append("user and password_env go together")
    if (config.cert is None) != (config.key is None):
        problems.append("cert and key go together")
    if config.cert is not None and config.ca_cert is None:
        problems.append("a client certificate needs ca_cert (TLS)")
    return problems


def _text(path: Path | None) -> str | None:
    return None if path is None else str(path)


def open_plane(config: ControlPlaneConfig, clock: Callable[[], int] = time.time_ns) -> ControlPlane:
    """The configured plane, connected (its watch running) but not joined."""
    if config.embedded:
        return EmbeddedControlPlane(clock=clock)
    from interlock.control.etcd_plane import EtcdControlPlane

    return EtcdControlPlane(config.url, prefix=config.prefix, auth=config.auth(), clock=clock,
                            timeout_s=config.timeout_ms / 1_000)  # fmt: skip


def close_plane(plane: ControlPlane) -> None:
    """Stop the plane's own threads, if it has any (etcd's watch)."""
    close = getattr(plane, "close", None)
    if callable(close):
        close()
