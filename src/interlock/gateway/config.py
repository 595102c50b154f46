"""Gateway configuration: what an instance needs to decide orders (instruments, API keys,
limits, calendar, journal, monitors, lease, fleet).

The one TOML file also configures the transports (`[rest]`, `[admin]`, `[fix]`): those
tables are api/'s (api/config.py's `ServeConfig` adds them to this model and loads the
file), so the gateway knows none of its transports. Validated with pydantic: unknown keys
are refused and every bad key is reported at once, by its dotted path (`parse_as`). A
default ships in the package (data/default.toml).
"""

from __future__ import annotations

import hashlib
import tomllib
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Annotated, TypeVar

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SerializerFunctionWrapHandler,
    StrictInt,
    ValidationError,
    field_validator,
    model_serializer,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from interlock.domain.instrument import Instrument
from interlock.errors import ConfigError
from interlock.gateway.calendar_config import CalendarConfig
from interlock.gateway.config_checks import Problem, cross_check
from interlock.gateway.journal_config import JournalConfig
from interlock.gateway.limit_change_config import LimitChangeConfig
from interlock.gateway.preopen_config import PreOpenConfig
from interlock.observe.alerts import AlertsConfig
from interlock.observe.config import MonitorConfig
from interlock.risk.limits import LimitsConfig, canonical_json


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class InstrumentConfig(_Model):
    tick_size: Annotated[Decimal, Field(gt=0, description="minimum price increment")]
    lot_size: StrictInt = Field(1, gt=0, description="quantities must be a multiple of this")
    currency: str = Field("USD", min_length=3, max_length=3, description="ISO 4217 code")

    @field_validator("tick_size")
    @classmethod
    def _micro_grid(cls, v: Decimal) -> Decimal:
        if (v * 1_000_000) != (v * 1_000_000).to_integral_value():
            raise ValueError("tick size must be a multiple of 0.000001")
        return v


class ApiKeyConfig(_Model):
    """A caller: its key is stored only as a SHA-256 digest."""

    principal: str = Field(min_length=1, description="who the caller is, in the journal")
    key_sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="sha256 hex of the API key")
    accounts: frozenset[str] = Field(min_length=1, description="accounts it may trade")
    strategies: frozenset[str] = Field(
        frozenset({"*"}), description="strategies it may trade as; '*' for any"
    )
    not_after: AwareDatetime | None = Field(
        None, description="ISO timestamp with a zone; refused from then on (CREDENTIAL_EXPIRED)"
    )

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler) -> dict[str, object]:
        return without_unset_expiry(self, handler)


def without_unset_expiry(
    model: BaseModel, handler: SerializerFunctionWrapHandler
) -> dict[str, object]:
    """A credential's dump without `not_after` while it has none, so the digest of every
    file from before expiries existed is unchanged (the attestation compares it)."""
    data: dict[str, object] = handler(model)
    if data.get("not_after", 0) is None:
        data.pop("not_after")
    return data


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def expiry_ns(not_after: datetime | None) -> int | None:
    """`not_after` as wall-clock nanoseconds since the epoch (the gateway's clock)."""
    return None if not_after is None else (not_after - _EPOCH) // timedelta(microseconds=1) * 1000


class BudgetConfig(_Model):
    """An account's position limit in one symbol, enforced across the whole fleet."""

    account: str = Field(min_length=1, description="the account whose limit is fleet-wide")
    symbol: str = Field(
        min_length=1,
        description="the symbol; its limit is the account's `max_position` or override",
    )
    slice_shares: StrictInt = Field(
        1_000,
        gt=0,
        description="an instance asks the control plane for this much more at a time",
    )


class FleetConfig(_Model):
    """How this instance takes part in the fleet (the control plane)."""

    quorum: StrictInt = Field(
        0,
        ge=0,
        description="live members that must attest this instance's build and flags "
        "before it routes; 0 = a majority of the release's expected members",
    )
    halt_confirm_ms: StrictInt = Field(
        1_000, gt=0, description="longest a halt waits for every live member to confirm it"
    )
    budgets: list[BudgetConfig] = Field(
        default_factory=list,
        description="position limits split into leased slices across instances",
    )


class GatewayConfig(_Model):
    instance_id: str = Field("gw-1", min_length=1, description="this instance's fleet name")
    lease_ttl_ms: StrictInt = Field(
        2_000, gt=0, description="lose the lease, lose the right to trade"
    )
    venue_reconcile_timeout_ms: StrictInt = Field(
        5_000,
        gt=0,
        description="how long the start waits for the venue's answer to reconciliation; "
        "past it the instance stays closed (VENUE_RECONCILING) rather than trade on a guess",
    )
    instruments: dict[str, InstrumentConfig] = Field(min_length=1)
    api_keys: list[ApiKeyConfig] = Field(default_factory=list)
    revoked: frozenset[Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]] = Field(
        frozenset(),
        description="sha256 hex of API keys, REST keys and admin tokens refused from the next "
        "start (CREDENTIAL_REVOKED), whether or not still listed",
    )
    limits: LimitsConfig = LimitsConfig()
    calendar: CalendarConfig = Field(
        CalendarConfig(), description="the venue's sessions, trading days and holidays"
    )
    journal: JournalConfig = JournalConfig()
    monitors: MonitorConfig = Field(
        MonitorConfig(), description="runaway detectors every instance runs, and their thresholds"
    )
    fleet: FleetConfig = FleetConfig()
    preopen: PreOpenConfig = Field(
        PreOpenConfig(), description="the pre-open readiness gate: since when, block, pages"
    )
    alerts: AlertsConfig = Field(
        AlertsConfig(), description="alert rules serve evaluates, and the halts bound to them"
    )
    limit_changes: LimitChangeConfig = Field(
        LimitChangeConfig(), description="four-eyes limit changes: how long a raise may wait"
    )

    _config_dir: Path | None = PrivateAttr(None)  # the file's directory: relative paths' base

    def located(self, path: Path | None) -> GatewayConfig:
        """This config, read from the file `path` (None: not from a file): the base of
        relative paths in it (`adv_file`). Not a setting: no digest sees it."""
        self._config_dir = None if path is None else path.resolve().parent
        return self

    def __eq__(self, other: object) -> bool:
        """The settings alone: where the file was read from is not one of them."""
        if not isinstance(other, BaseModel):
            return NotImplemented
        return type(self) is type(other) and self.__dict__ == other.__dict__

    __hash__ = BaseModel.__hash__

    def adv_file(self) -> Path | None:
        """`limits.adv.file`, relative to the config file's directory (else the cwd)."""
        name = self.limits.adv.file
        if name is None:
            return None
        return (self._config_dir or Path.cwd()) / name

    @model_validator(mode="after")
    def _names_resolve(self) -> GatewayConfig:
        """Every account and symbol a setting names exists and no credential is given twice
        (config_checks.py says why); every problem at once, each at its dotted key."""
        problems = [p for group in self.cross_checks().values() for p in group]
        if problems:
            raise ValidationError.from_exception_data(
                type(self).__name__,
                [
                    InitErrorDetails(
                        type=PydanticCustomError("unresolved_name", msg), loc=loc, input=None
                    )
                    for loc, msg in problems
                ],
            )
        return self

    def cross_checks(self) -> dict[str, list[Problem]]:
        """The cross-check problems by kind, in report order; a model that adds sections
        adds its own problems to the kinds here (one validation, so all at once)."""
        return cross_check(self)

    def declared_strategies(self) -> dict[str, frozenset[str]]:
        """Per account, the strategy names some API key names for it ('*' is no name): an
        undeclared name shares the account's one '*' rate window."""
        out: dict[str, set[str]] = {}
        for k in self.api_keys:
            for account in k.accounts:
                out.setdefault(account, set()).update(s for s in k.strategies if s != "*")
        return {a: frozenset(s) for a, s in out.items()}

    def instrument_map(self) -> dict[str, Instrument]:
        return {
            sym: Instrument(sym, i.tick_size, i.lot_size, i.currency)
            for sym, i in self.instruments.items()
        }

    def digest(self) -> str:
        """The whole file's settings, this instance's name and any transports included."""
        return hashlib.sha256(canonical_json(self, self.unset_later()).encode()).hexdigest()[:16]

    def unset_later(self) -> frozenset[str]:
        """Fields added after files were attested, left out of the digests while at their
        default, so a file from before them keeps its digest."""
        fields = GatewayConfig.model_fields
        top = frozenset(f for f in _LATER if getattr(self, f) == fields[f].default)
        return top | {f"limits.{f}" for f in self.limits.unset_later()}

    def fleet_digest(self) -> str:
        """The settings every member of a fleet must share, attested and released: all of
        the gateway's but its own name and journal (any transports are not the gateway's)."""
        shared = {f: getattr(self, f) for f in GatewayConfig.model_fields if f not in _OWN}
        fleet = GatewayConfig.model_construct(**shared)  # the defaults stand in for _OWN
        text = canonical_json(fleet, self.unset_later())
        return hashlib.sha256(text.encode()).hexdigest()[:16]


_OWN = frozenset({"instance_id", "journal"})
_LATER = ("venue_reconcile_timeout_ms", "preopen", "alerts", "limit_changes", "revoked")
"""GatewayConfig fields that are each instance's own: not in `fleet_digest`."""


def hash_key(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


C = TypeVar("C", bound=BaseModel)


def parse_as(model: type[C], data: dict[str, object], source: str = "config") -> C:
    """`data` validated as `model`, or one ConfigError naming every bad key by its path."""
    try:
        return model.model_validate(data)
    except ValidationError as e:
        lines = []
        for err in e.errors():
            where = ".".join(str(p) for p in err["loc"]) or "(top level)"
            lines.append(f"  {where}: {err['msg']}")
        raise ConfigError(f"{source}: {len(lines)} invalid key(s)\n" + "\n".join(lines)) from None


def read_toml(path: str | Path | None = None) -> tuple[dict[str, object], str]:
    """The table in `path` (the packaged default when None) and the name errors call it."""
    if path is None:
        text = resources.files("interlock").joinpath("data/default.toml").read_text()
        source = "default.toml"
    else:
        try:
            text = Path(path).read_text()
        except OSError as e:
            raise ConfigError(f"{path}: cannot read: {e.strerror}") from None
        source = str(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{source}: not valid TOML: {e}") from None
    return data, source
