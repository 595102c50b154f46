"""The FIX acceptor as a service: settings written, QuickFIX started, stopped, detached.

Fills and cancels reach the acceptor through the `ExecutionTap` the venue reports to
(see venue/tap.py): the gateway applies each event, then the acceptor reports it.
"""

from __future__ import annotations

import ipaddress
from functools import partial
from pathlib import Path

from interlock.api.fix.app import FixAcceptorApp
from interlock.api.fix.tls_front import TlsFront
from interlock.api.listeners import FixAcceptorConfig
from interlock.api.tls import server_context
from interlock.fixengine.bind import AcceptorBinding
from interlock.fixengine.engine import SessionKey, open_engine, write_settings
from interlock.fixengine.log_redact import redact_passwords
from interlock.gateway.gateway import Gateway
from interlock.venue.tap import ExecutionTap


class FixAcceptor:
    """QuickFIX SocketAcceptor for every configured session, in front of `gateway`. With
    `tls_cert` set, TLS is terminated in front of it (tls_front.py: the configured
    host:port is the TLS listener; QuickFIX listens on the same host at a private port)."""

    def __init__(
        self, gateway: Gateway, tap: ExecutionTap, config: FixAcceptorConfig, work_dir: Path
    ) -> None:
        work_dir.mkdir(parents=True, exist_ok=True)
        self.config = config
        self.app = FixAcceptorApp(gateway, config)
        self._tap = tap
        sessions = [SessionKey(config.comp_id, s.comp_id) for s in config.sessions]
        context = server_context("fix", config)
        self.front = None if context is None else TlsFront(config.host, config.port, context)
        try:  # the public port first: in use, it fails before anything listens
            private = 0 if self.front is not None else config.port
            self._binding = AcceptorBinding(config.host, private)
        except BaseException:
            if self.front is not None:
                self.front.stop()
            raise
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
        """(ip, port) the OS bound the listener to (getsockname), once started: the TLS
        front's when there is one."""
        if self._binding.address is None:
            raise RuntimeError("FIX acceptor not started")
        return self._binding.address if self.front is None else self.front.address

    @property
    def private_address(self) -> tuple[str, int] | None:
        """Where QuickFIX itself listens behind the TLS front (None without TLS)."""
        return None if self.front is None else self._binding.address

    def start(self) -> FixAcceptor:
        self._tap.add(self.app)
        try:
            self._engine.start()
        except BaseException:
            if self.front is not None:
                self.front.stop()
            raise
        if self.front is not None:
            assert self._binding.address is not None
            self.front.start(self._binding.address)
        return self

    def stop(self) -> None:
        """Log every session out (cancel-on-disconnect runs), then stop listening."""
        self._engine.stop()  # the Logouts go out through the front, still open
        if self.front is not None:
            self.front.stop()
        self._tap.remove(self.app)
