"""The one way to build a running Interlock instance: serve, the replay, the demo and the
test harness all come through `build_instance`.

An instance is a `Gateway` (which always runs its runaway monitors and its loss halt: they
are built from `config.monitors` inside the gateway, so no wiring can forget them) with its
journal, control plane and venue attached, started: state rebuilt from the journal, the
fleet joined under a lease. The caller owns the ports (which journal, plane and venue) and
the clock; the instance owns everything on the order path.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from interlock.control.ports import ControlPlane
from interlock.flags.manifest import FlagManifest
from interlock.gateway.config import GatewayConfig
from interlock.gateway.gateway import Gateway
from interlock.journal.base import Journal
from interlock.venue.base import Venue


def build_instance(
    config: GatewayConfig,
    *,
    journal: Journal,
    venue: Venue,
    plane: ControlPlane,
    clock: Callable[[], int] = time.time_ns,
    disabled_checks: Iterable[str] = (),
    build_digest: str | None = None,
    flag_digest: str = "",
    flag_manifest: FlagManifest | None = None,
    start: bool = True,
) -> Gateway:
    """A gateway wired to its ports; started (recovered, joined) unless `start` is False.

    `venue` must report to the gateway: if it has `attach(sink)`, it is attached here.
    `disabled_checks` names risk checks and monitors to switch off: only the Knight
    replay's defence-in-depth runs do that; the product never does.
    """
    gw = Gateway(config, journal, venue, plane, clock=clock, disabled_checks=disabled_checks,
                 build_digest=build_digest, flag_digest=flag_digest,
                 flag_manifest=flag_manifest)  # fmt: skip
    attach = getattr(venue, "attach", None)
    if callable(attach):
        attach(gw)
    if start:
        gw.start()
    return gw
