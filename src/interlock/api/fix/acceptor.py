"""The FIX acceptor as a service: settings written, QuickFIX started, stopped, detached.

Fills and cancels reach the acceptor through the `ExecutionTap` the venue reports to
(see venue/tap.py): the gateway applies each event, then the acceptor reports it.
"""

from __future__ import annotations

import ipaddress
from functools import partial
from pathlib import Path

from interlock.api.fix.app import FixAcceptorApp
from interlock.api.listeners import FixAcceptorConfig
from interlock.fixengine.bind import AcceptorBinding
from interlock.fixengine.engine import SessionKey, open_engine, write_settings
from interlock.fixengine.log_redact import redact_passwords
from interlock.gateway.gateway import Gateway
from interlock.venue.tap import ExecutionTap


class FixAcceptor:
    """QuickFIX SocketAcceptor for every configured session, in front of `gateway`."""

    def __init__(
        self, gateway: Gateway, tap: ExecutionTap, config: FixAcceptorConfig, work_dir: Path
    ) -> None:
        work_dir.mkdir(parents=True, exist_ok=True)
        self.config = config
        self.app = FixAcceptorApp(gateway, config)
        self._tap = tap
        sessions = [SessionKey(config.comp_id, s.comp_id) for s in config.sessions]
        self._binding = AcceptorBinding(config.host, config.port)  # fails here if in use
        loopback = ipaddress.ip_address(config.host).is_loopback
        path = write_settings(
            work_dir / "acceptor.cfg",
            acceptor=True,
            port=self._binding.scratch_port,
            allowed_remote=tuple(dict.fromkeys(("127.0.0.1", config.host))) if loopback else (),
            sessions=sessions,
            work_dir=work_dir,
            heartbeat_s=config.heartbeat_s,
            file_log=config.file_log,
        )
        self._engine = open_engine(
            self.app, path, acceptor=True, file_log=config.file_log, binding=self._binding
        )
        self.app.kick = self._engine.kick
        if config.file_log:  # QuickFIX logged the Logon's Password as it arrived: blank it
            self.app.scrub = partial(redact_passwords, work_dir / "log")

    @property
    def address(self) -> tuple[str, int]:
        """(ip, port) the OS bound the listener to (getsockname), once started."""
        if self._binding.address is None:
            raise RuntimeError("FIX acceptor not started")
        return self._binding.address

    def start(self) -> FixAcceptor:
        self._tap.add(self.app)
        self._engine.start()
        return self

    def stop(self) -> None:
        """Log every session out (cancel-on-disconnect runs), then stop listening."""
        self._engine.stop()
        self._tap.remove(self.app)
