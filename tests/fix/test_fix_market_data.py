"""The FIX venue's market data is the reference store: on Logon it subscribes (V) to every
instrument, snapshots (W) and refreshes (X) from the exchange move the marks, and an
order it is asked to resend after a reconnect is gap-filled, never sent twice."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
import quickfix as fix
from fix_rig import wait_until

from interlock.api.config import load_config
from interlock.control.embedded import EmbeddedControlPlane
from interlock.fixengine.engine import new_message
from interlock.gateway.gateway import Gateway
from interlock.instance import build_instance
from interlock.journal.sqlite import SqliteJournal
from interlock.sim.fix import FakeExchange, free_port
from interlock.venue.fix import FixVenue


@dataclass
class MdRig:
    gateway: Gateway
    venue: FixVenue
    exchange: FakeExchange


@pytest.fixture(scope="module")
def md(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MdRig]:
    root = tmp_path_factory.mktemp("fixmd")
    port = free_port()
    mids = {"AAPL": Decimal("187.50"), "MSFT": Decimal("410.00")}
    exchange = FakeExchange(root / "exchange", port, client="ILKMD", mids=mids,
                            file_log=False).start()  # fmt: skip
    config = load_config()
    venue = FixVenue(port=port, work_dir=root / "venue", comp_id="ILKMD", file_log=False,
                     instruments=config.instrument_map())  # fmt: skip
    gw = build_instance(config, journal=SqliteJournal(root / "journal.db"), venue=venue,
                        plane=EmbeddedControlPlane(), reference_from=venue)  # fmt: skip
    venue.start()
    yield MdRig(gw, venue, exchange)
    venue.stop()
    exchange.stop()
    gw.close()


def _mark(gw: Gateway, symbol: str) -> int | None:
    ref = gw.book.refs.get(symbol)
    return None if ref is None else ref.ticks


def test_logon_subscribes_and_the_snapshot_sets_the_mid_as_the_mark(md: MdRig) -> None:
    # AAPL 187.49 / 187.51 at a 0.01 tick: mid 18,750 ticks
    assert wait_until(lambda: _mark(md.gateway, "AAPL") == 18_750), _mark(md.gateway, "AAPL")
    assert wait_until(lambda: _mark(md.gateway, "MSFT") == 41_000)


def test_an_incremental_refresh_moves_the_mark(md: MdRig) -> None:
    assert wait_until(lambda: _mark(md.gateway, "AAPL") is not None)
    md.exchange.set_mid("AAPL", Decimal("188.00"))
    assert wait_until(lambda: _mark(md.gateway, "AAPL") == 18_800), _mark(md.gateway, "AAPL")


def test_a_mark_is_stamped_on_receipt(md: MdRig) -> None:
    before = md.gateway.book.refs["MSFT"].ts
    md.exchange.set_mid("MSFT", Decimal("411.00"))
    assert wait_until(lambda: md.gateway.book.refs["MSFT"].ts > before)


def test_a_resend_of_an_order_is_never_sent_again(tmp_path: Path) -> None:
    # its own CompID: QuickFIX keeps one session registry per process
    venue = FixVenue(port=free_port(), work_dir=tmp_path, comp_id="ILKRESEND", file_log=False)
    session = fix.SessionID("FIX.4.4", "ILKRESEND", "VENUE")
    for kind in ("D", "G"):  # a new order, a replace: a resend could repeat one
        resend = new_message(kind)
        resend.getHeader().setField(43, "Y")
        with pytest.raises(fix.DoNotSend):
            venue.toApp(resend, session)
    venue.toApp(new_message("D"), session)  # a first send goes out
    cancel = new_message("F")  # a cancel only takes risk off: its resend goes out
    cancel.getHeader().setField(43, "Y")
    venue.toApp(cancel, session)
