"""The whole config file: the gateway's settings plus its transports' (`[rest]`, `[admin]`,
`[fix]`), its venue (`[venue]`), reference source (`[reference]`) and control plane
(`[control_plane]`), one TOML file.

`ServeConfig` is what every loader of a file returns (serve, the CLI, the demo, the
replay, the simulation harness): a `GatewayConfig`, so any gateway takes it, with the
listener sections added here, where the transports live, so the gateway layer never knows
them. Its digest is the file's, transports included, as before the split.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from pydantic import Field

from interlock.api.config_checks import transport_checks
from interlock.api.listeners import AdminConfig, FixAcceptorConfig, RestConfig
from interlock.api.plane_config import ControlPlaneConfig
from interlock.api.reference_config import ReferenceConfig
from interlock.gateway.config import GatewayConfig, parse_as, read_toml
from interlock.gateway.config_checks import Problem
from interlock.risk.limits import canonical_json
from interlock.venue.config import VenueConfig


class ServeConfig(GatewayConfig):
    """The gateway's settings and its transports': the one config file."""

    rest: RestConfig = RestConfig()
    admin: AdminConfig = AdminConfig()
    fix: FixAcceptorConfig | None = Field(
        None, description="the FIX acceptor `interlock serve` starts (needs the `fix` extra)"
    )
    venue: VenueConfig = VenueConfig()
    reference: ReferenceConfig = ReferenceConfig()
    control_plane: ControlPlaneConfig = Field(
        ControlPlaneConfig(), description="the fleet this instance joins: embedded, or etcd"
    )

    def digest(self) -> str:
        """The file's digest; `[venue]`, `[reference]` and `[control_plane]` count only when
        set, so a file from before they existed (the simulated venue, its prices, the
        embedded plane) keeps its digest."""
        unset = frozenset(
            name
            for name, default in (
                ("venue", VenueConfig()),
                ("reference", ReferenceConfig()),
                ("control_plane", ControlPlaneConfig()),
            )
            if getattr(self, name) == default
        )
        text = canonical_json(self, unset | self.unset_later())
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def cross_checks(self) -> dict[str, list[Problem]]:
        found = super().cross_checks()
        for kind, problems in transport_checks(self).items():
            found[kind] = found[kind] + problems
        return found


def serve_config(config: GatewayConfig) -> ServeConfig:
    """`config` as its transports read it: itself when it was loaded whole, else the same
    settings with every transport at its default (as a file without those sections)."""
    if isinstance(config, ServeConfig):
        return config
    return ServeConfig.model_validate(dict(config))


def with_control_plane(config: ServeConfig, url: str) -> ServeConfig:
    """`config` joining the plane at `url` instead (validated as the file's would be)."""
    data = config.model_dump(mode="json")
    data["control_plane"] = {**data["control_plane"], "url": url}
    moved = parse_config(data, "--control-plane")
    moved._config_dir = config._config_dir
    return moved


def parse_config(data: dict[str, object], source: str = "config") -> ServeConfig:
    """A whole config file's table, validated: every bad key at once, by its dotted path."""
    return parse_as(ServeConfig, data, source)


def load_config(path: str | Path | None = None) -> ServeConfig:
    """Load `path`, or the packaged default when None."""
    data, source = read_toml(path)
    config = parse_config(data, source)
    config.located(None if path is None else Path(path))
    return config
