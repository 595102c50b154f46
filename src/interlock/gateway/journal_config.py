"""`[journal]`: where an instance journals, SQLite on this machine or the fleet's PostgreSQL.

`kind = "sqlite"` (the default) journals to the file at `path`. `kind = "postgres"` journals
to the fleet's shared table as the gateway's `instance_id`; its DSN is read from the
environment variable named by `dsn_env` when serve starts, so a password never sits in the
file (which is digested, logged and copied around). A DSN that needs no password (trust or
peer auth, a socket dir) may be given inline as `dsn`; one that carries a password is refused.
Each problem is reported at its own key (`journal.dsn`, `journal.dsn_env`).
"""

from __future__ import annotations

import os
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    StrictInt,
    ValidationInfo,
    field_validator,
    model_serializer,
)

from interlock.errors import ConfigError
from interlock.journal.base import Journal

JournalKind = Literal["sqlite", "postgres"]
_ADDED_LATER: dict[str, object] = {
    "kind": "sqlite", "dsn": None, "dsn_env": None, "connect_timeout_ms": 5_000,
    "max_backlog": 100_000, "retain_ended_orders": 50_000,
}  # fmt: skip
"""Keys added with the PostgreSQL journal and journal outages, and their defaults (see
`_dump`)."""


class JournalConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: JournalKind = Field(
        "sqlite", description="`sqlite` (a file on this machine) or `postgres` (the fleet's)"
    )
    path: str = Field(
        "interlock-journal.db",
        description="SQLite journal file (its folder also holds the FIX session stores)",
    )
    dsn: str | None = Field(
        None,
        min_length=1,
        description="postgres: a libpq DSN without a password (trust or peer auth)",
    )
    dsn_env: str | None = Field(
        None,
        min_length=1,
        validate_default=True,
        description="postgres: environment variable holding the DSN (password allowed)",
    )
    connect_timeout_ms: StrictInt = Field(
        5_000, gt=0, le=60_000, description="postgres: longest one connection attempt may take"
    )
    max_wait_ms: float = Field(
        1.0, ge=0, le=100, description="longest a group commit may wait to gather records"
    )
    max_backlog: int = Field(
        100_000,
        ge=1,
        description="records kept in memory while the journal is unavailable; "
        "past it the instance stops trading for good and cancels every working order",
    )
    retain_ended_orders: StrictInt = Field(
        50_000,
        ge=1,
        le=10_000_000,
        description="ended orders (filled, cancelled, rejected) kept in memory; older ones "
        "are read back from the journal when a late fill, a status request or a cancel "
        "names them, so memory stays flat over a day however many orders end",
    )

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """The keys added for PostgreSQL and for outages are left out of a dump while at
        their defaults, so a SQLite config keeps the digest it had before they existed (as
        `[venue]` and the other later sections do in `ServeConfig.digest`): attested
        digests do not move."""
        data: dict[str, Any] = handler(self)
        for key, default in _ADDED_LATER.items():
            if key in data and data[key] == default:
                del data[key]
        return data

    @field_validator("dsn")
    @classmethod
    def _inline_dsn(cls, v: str | None, info: ValidationInfo) -> str | None:
        if v is None:
            return v
        if info.data.get("kind") != "postgres":
            raise ValueError('only for kind = "postgres"')
        import psycopg  # here: loading a config must not pay for the driver

        try:
            params = psycopg.conninfo.conninfo_to_dict(v)
        except psycopg.Error as exc:
            raise ValueError(f"not a libpq DSN: {' '.join(str(exc).split())}") from None
        if params.get("password"):
            raise ValueError("holds a password: name an environment variable in dsn_env instead")
        return v

    @field_validator("dsn_env")
    @classmethod
    def _one_dsn(cls, v: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("kind") != "postgres":
            if v is not None:
                raise ValueError('only for kind = "postgres"')
            return v
        has_dsn = info.data.get("dsn") is not None
        if v is None and not has_dsn and "dsn" in info.data:  # (a bad dsn: reported there)
            raise ValueError('kind = "postgres" needs dsn_env (or a password-free dsn)')
        if v is not None and has_dsn:
            raise ValueError("give dsn or dsn_env, not both")
        return v

    def resolved_dsn(self) -> str:
        """The PostgreSQL DSN, read from `dsn_env` now; ConfigError if it is not there."""
        if self.dsn is not None:
            return self.dsn
        if self.dsn_env is None:
            raise ConfigError('journal: kind = "postgres" needs dsn_env or dsn')
        value = os.environ.get(self.dsn_env)
        if value is None:
            raise ConfigError(f"journal.dsn_env: ${self.dsn_env} is not set")
        if not value.strip():
            raise ConfigError(f"journal.dsn_env: ${self.dsn_env} is empty")
        return value

    def describe(self, instance_id: str) -> str:
        """What serve announces: never the DSN (it may carry a password)."""
        if self.kind == "postgres":
            source = f"${self.dsn_env}" if self.dsn_env is not None else "the inline dsn"
            return f"postgres (instance {instance_id}, DSN from {source})"
        return f"sqlite {self.path}"


def open_journal(config: JournalConfig, instance_id: str) -> Journal:
    """The configured journal, open and recovered to its last committed record.

    JournalError (stable code JOURNAL_ERROR) when it cannot be opened: the database is
    unreachable, or another writer holds this instance id.
    """
    max_wait_s = config.max_wait_ms / 1_000
    if config.kind == "postgres":
        from interlock.journal.postgres import PostgresJournal

        return PostgresJournal(config.resolved_dsn(), instance_id, max_wait_s=max_wait_s,
                               connect_timeout_s=config.connect_timeout_ms / 1_000)  # fmt: skip
    from interlock.journal.sqlite import SqliteJournal

    return SqliteJournal(config.path, max_wait_s=max_wait_s)
