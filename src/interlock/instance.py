"""The one way to build a running Interlock instance: serve, the replay, the demo and the
test harness all come through `build_instance`.

An instance is a `Gateway` (which always runs its runaway monitors and its loss halt: they
are built from `config.monitors` inside the gateway, so no wiring can forget them) with its
journal, control plane and venue attached, started: state rebuilt from the journal, the
fleet joined under a lease. The caller owns the ports (which journal, plane and venue) and
the clock; the instance owns everything on the order path. `open_venue` turns a `[venue]`
table into that port (the simulated exchange or a FIX session), and `reference_from_venue`
makes the venue's own prices the gateway's reference store. A FIX venue's drop copy
(`[venue.drop_copy]`) is opened with it and wired to the gateway's matcher here
(gateway/drop_copy.py), so every instance built from such a config compares its venue's
executions with what it released.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from interlock.control.ports import ControlPlane
from interlock.domain.instrument import Instrument
from interlock.flags.manifest import FlagManifest
from interlock.gateway.config import GatewayConfig
from interlock.gateway.drop_copy import DropCopyWatch
from interlock.gateway.gateway import Gateway
from interlock.journal.base import Journal
from interlock.venue.base import ExecutionSink, Venue
from interlock.venue.config import VenueConfig
from interlock.venue.market import MarketModel
from interlock.venue.simulated import SimulatedVenue

SIM_MID = Decimal("100.00")  # every symbol's opening mid on the simulated venue


def _nothing(*_: object) -> None:
    return None


@dataclass(frozen=True)
class OpenedVenue:
    """The venue port, how to (re)attach its sink, connect and disconnect it, and the
    simulated market behind it (None for a real venue)."""

    venue: Venue
    attach: Callable[[ExecutionSink], None]
    market: MarketModel | None
    kind: str
    connect: Callable[[float], object] = _nothing  # timeout s; raises VenueError on no Logon
    disconnect: Callable[[], None] = _nothing


def open_venue(
    config: VenueConfig,
    instruments: Mapping[str, Instrument],
    *,
    store_dir: Path,
    seed: int = 7,
) -> OpenedVenue:
    """The venue `config` names, built but not connected: a FIX session logs on when
    started (`FixVenue.start`), after its gateway is attached. `store_dir` is where a FIX
    session keeps its sequence numbers unless the config names a directory."""
    if config.kind == "simulated":
        books = {}
        for symbol, inst in instruments.items():
            ticks = inst.to_ticks(SIM_MID)
            books[symbol] = (ticks if ticks is not None else 100, 1, 5_000)
        market = MarketModel(books, seed=seed, volatility_ticks=0)
        sim = SimulatedVenue(market, seed=seed)
        return OpenedVenue(sim, sim.attach, market, "simulated")
    from interlock.venue.drop_copy import DropCopySession  # QuickFIX: only for a FIX venue
    from interlock.venue.fix import FixVenue

    fix = config.fix
    assert fix is not None  # VenueConfig refuses kind = "fix" without its table
    store = Path(fix.store_dir) if fix.store_dir is not None else store_dir
    dc = config.drop_copy
    drop_copy = None
    if dc is not None:
        dc_dir = store_dir.parent / "fix-drop-copy"  # beside the journal, as fix-venue/
        drop_copy = DropCopySession(
            port=dc.port, work_dir=dc_dir, comp_id=dc.sender_comp_id,
            venue_comp_id=dc.target_comp_id, host=dc.host, heartbeat_s=dc.heartbeat_s,
            reconnect_s=dc.reconnect_s, file_log=dc.file_log,
            store_dir=Path(dc.store_dir) if dc.store_dir is not None else dc_dir / "store",
            confirm_within_ms=dc.confirm_within_ms,
        )  # fmt: skip
    venue = FixVenue(
        port=fix.port,
        work_dir=store,
        comp_id=fix.sender_comp_id,
        venue_comp_id=fix.target_comp_id,
        file_log=fix.file_log,
        host=fix.host,
        heartbeat_s=fix.heartbeat_s,
        reconnect_s=fix.reconnect_s,
        store_dir=store / "store",
        instruments=instruments,
        drop_copy=drop_copy,
    )
    if dc is not None:
        venue.drop_copy_timeout_s = dc.logon_timeout_ms / 1_000
    return OpenedVenue(venue, venue.attach, None, "fix", venue.start, venue.stop)


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
    reference_from: MarketModel | Venue | None = None,
) -> Gateway:
    """A gateway wired to its ports; started (recovered, joined) unless `start` is False.

    `venue` must report to the gateway: if it has `attach(sink)`, it is attached here.
    `disabled_checks` names risk checks and monitors to switch off: only the Knight
    replay's defence-in-depth runs do that; the product never does.
    `reference_from`: a simulated market or a venue with `feed_marks` (FIX market data)
    whose every new mark becomes the gateway's reference price, stamped on receipt.
    """
    gw = Gateway(config, journal, venue, plane, clock=clock, disabled_checks=disabled_checks,
                 build_digest=build_digest, flag_digest=flag_digest,
                 flag_manifest=flag_manifest)  # fmt: skip
    attach = getattr(venue, "attach", None)
    if callable(attach):
        attach(gw)
    drop_copy = getattr(venue, "drop_copy", None)
    if drop_copy is not None:  # the venue's drop copy: its executions matched, always on
        watch = DropCopyWatch(gw, drop_copy.name, getattr(drop_copy, "confirm_within_ms", None))
        drop_copy.attach(watch.on_report, watch.on_status, watch.tick)
        gw.drop_copy = watch
    if isinstance(reference_from, MarketModel):
        reference_from.subscribe(gw.update_reference)
    elif reference_from is not None:
        feed_marks = getattr(reference_from, "feed_marks", None)
        if not callable(feed_marks):
            raise TypeError(f"{type(reference_from).__name__} has no market data to feed marks")
        feed_marks(gw.update_reference)
    if start:
        gw.start()
    return gw
