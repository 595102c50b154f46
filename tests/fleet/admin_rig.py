"""A running fleet reached the way an operator reaches it: three instances (built the one
way serve builds them) sharing one embedded control plane on the wall clock, each renewing
its lease, and a real uvicorn admin listener on 127.0.0.1 in front of one of them. The CLI
runs through Typer's CliRunner against that listener's URL.

A restart is real (the gateway closes, leaves the plane, and a new one recovers from its
journal); restarting the member behind the listener restarts the listener on it too, as a
process restart would."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from typer.testing import CliRunner

from interlock.api.admin import create_admin_app
from interlock.api.listener import Listener
from interlock.api.listeners import AdminConfig, AdminTokenConfig
from interlock.cli import app
from interlock.flags.manifest import FlagManifest
from interlock.flags.registry import FlagRegistry
from interlock.gateway.auth import Role
from interlock.gateway.config import hash_key
from interlock.sim.fleet import InProcessFleet
from interlock.sim.harness import around_the_clock

OPERATOR = "rig-operator-token"
READER = "rig-reader-token"
runner = CliRunner()


def admin_config() -> AdminConfig:
    return AdminConfig(port=0, tokens=[
        AdminTokenConfig(principal="ops-alice", token_sha256=hash_key(OPERATOR)),
        AdminTokenConfig(principal="viewer-bob", token_sha256=hash_key(READER), role=Role.READER),
    ])  # fmt: skip


@dataclass
class Rig:
    fleet: InProcessFleet
    listener: Listener
    behind: str = "gw-1"  # the member whose admin port the CLI calls

    @property
    def url(self) -> str:
        return self.listener.url

    def cli(self, *args: str, token: str = OPERATOR) -> tuple[int, str]:
        """Run `interlock ARGS` against the listener, the URL and token from the env."""
        env = {"INTERLOCK_ADMIN_URL": self.url, "INTERLOCK_ADMIN_TOKEN": token, "COLUMNS": "250"}
        result = runner.invoke(app, list(args), env=env)
        return result.exit_code, result.output

    def restart(self, ids: Iterable[str], build: str, manifest: FlagManifest | None = None) -> None:
        """Restart `ids` on `build` (and `manifest`), each renewing its lease again."""
        for instance_id in ids:
            if instance_id == self.behind:
                self.listener.stop()
            gw = self.fleet.restart(instance_id, build, manifest=manifest)
            gw.start_heartbeat()
            if instance_id == self.behind:
                self.listener = Listener(create_admin_app(gw), "127.0.0.1", 0, "rig-admin")
                self.listener.start()


def running_fleet(
    build: str = "b1", manifest: FlagManifest | None = None, flags: FlagRegistry | None = None
) -> Iterator[Rig]:
    config = around_the_clock().model_copy(update={"admin": admin_config()})
    fleet = InProcessFleet(3, config=config, clock=time.time_ns, build_digest=build,
                           manifest=manifest, flags=flags)  # fmt: skip
    for gw in (fleet[i] for i in fleet.ids):
        gw.start_heartbeat()  # the wall clock: without renewals a lease runs out
    listener = Listener(create_admin_app(fleet["gw-1"]), "127.0.0.1", 0, "rig-admin").start()
    rig = Rig(fleet, listener)
    try:
        yield rig
    finally:
        rig.listener.stop()
        fleet.close()
