"""The acceptor's listening socket is ours, on the configured address: QuickFIX's own
0.0.0.0 socket is gone before anything is accepted, and a port in use fails up front."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from interlock.fixengine.bind import AcceptorBinding, FixBindError, listening_sockets
from interlock.sim.fix import FakeExchange, FixClient, free_port

_kept: list[object] = []


def test_started_acceptor_listens_on_loopback_only_and_still_serves(tmp_path: Path) -> None:
    port = free_port()
    # CompIDs of its own: QuickFIX keeps one session registry per process
    exchange = FakeExchange(tmp_path / "ex", port, "BINDVENUE", "BINDDESK", file_log=False)
    client = FixClient(tmp_path / "cl", port, "BINDDESK", "u", "p", target="BINDVENUE",
                       file_log=False)  # fmt: skip
    _kept.extend((exchange, client))  # QuickFIX may still point at them after stop
    exchange.start()
    try:
        addresses = sorted(listening_sockets().values())
        assert ("127.0.0.1", port) in addresses
        assert not [a for a in addresses if a[0] in ("0.0.0.0", "::")], addresses
        assert client.start()
        client.new_order("bind-1")
        assert client.expect(lambda m: m[35] == "8" and m.get(11) == "bind-1")[150] == "0"
    finally:
        client.stop()
        exchange.stop()


def test_binding_a_port_in_use_fails_before_quickfix_listens() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        before = set(listening_sockets().values())
        with pytest.raises(FixBindError, match=r"cannot listen on 127\.0\.0\.1:"):
            AcceptorBinding("127.0.0.1", taken.getsockname()[1])
        assert set(listening_sockets().values()) == before
