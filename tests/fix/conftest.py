"""A gateway behind a real FIX acceptor on 127.0.0.1, shared by the FIX tests (stop() is ~2 s)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

pytest.importorskip("quickfix")

from fix_rig import FixRig

from interlock.api.fix import FixAcceptor, FixAcceptorConfig, FixLogin
from interlock.journal.sqlite import SqliteJournal
from interlock.sim.fix import free_port
from interlock.sim.harness import MM_KEY, build, high_rate
from interlock.venue.tap import ExecutionTap

SESSIONS = (
    FixLogin(comp_id="DESK1", username="desk-7-algo", account="desk-7", strategy="vwap"),
    FixLogin(comp_id="DESK2", username="desk-7-algo", account="desk-7", strategy="pairs"),
    FixLogin(comp_id="DESK3", username="desk-7-algo", account="desk-7", strategy="smars"),
    FixLogin(comp_id="DESK4", username="desk-7-algo", account="desk-7", strategy="smars"),
    FixLogin(comp_id="MM", username="market-making", account="mm-1", strategy="quotes",
             cancel_on_disconnect=False),
)  # fmt: skip


@pytest.fixture(scope="session")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FixRig]:
    root = tmp_path_factory.mktemp("fix")
    # one gateway for the whole session on a clock that never moves: every order of every
    # test falls in one instant, so the rate envelopes and monitors are set out of reach
    harness = build(high_rate(), journal=SqliteJournal(root / "journal.db"))
    tap = ExecutionTap(harness.gateway)
    harness.venue.attach(tap)
    port = free_port()
    config = FixAcceptorConfig(port=port, sessions=SESSIONS)
    acceptor = FixAcceptor(harness.gateway, tap, config, root / "acceptor").start()
    r = FixRig(harness, acceptor, port, root, {})
    desk1 = r.client("DESK1")
    desk2 = r.client("DESK2")
    desk4 = r.client("DESK4")
    mm = r.client("MM", "market-making", MM_KEY)
    assert desk1.start() and desk2.start() and desk4.start() and mm.start()
    yield r
    for c in r.clients.values():  # not `retired`: stopping a stopped initiator again segfaults
        c.stop()
    acceptor.stop()
    harness.gateway.close()
