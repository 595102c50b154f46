"""A throwaway PostgreSQL cluster on 127.0.0.1 for tests: the fleet journal's real server.

`initdb` into a fresh temp dir, `pg_ctl start` on a free loopback port with the Unix socket
in that dir too, trust auth, database `postgres`. As root (PostgreSQL refuses to run as
root) the dir is chowned to user `postgres` and every command runs through
`runuser -u postgres --`. `stop()` shuts the server down (a test's "database gone"),
`start()` brings it back on the same port and data; `close()` stops it and removes the dir.

    with PostgresCluster() as pg:
        PostgresJournal(pg.dsn, "gw-1")
"""

from __future__ import annotations

import atexit
import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType

from interlock.sim.procs import free_ports

PG_HINT = "install it: apt-get install postgresql (scripts/test.sh does)"
_OWNER = "postgres"


class PostgresClusterError(RuntimeError):
    """initdb or pg_ctl failed or timed out (the message ends with the server log tail)."""


def pg_bin_dir() -> Path | None:
    """The newest installed `/usr/lib/postgresql/N/bin` holding initdb and pg_ctl."""
    found = []
    for d in glob.glob("/usr/lib/postgresql/*/bin"):
        if os.access(Path(d) / "initdb", os.X_OK) and os.access(Path(d) / "pg_ctl", os.X_OK):
            version = Path(d).parent.name
            found.append((int(version) if version.isdigit() else 0, Path(d)))
    return max(found)[1] if found else None


class PostgresCluster:
    """One `postgres` server in its own temp dir; started on construction."""

    def __init__(self, timeout_s: float = 30.0) -> None:
        bindir = pg_bin_dir()
        if bindir is None:
            raise PostgresClusterError(f"PostgreSQL (initdb, pg_ctl) not found: {PG_HINT}")
        self._bin = bindir
        self._timeout = timeout_s
        self._as_owner: list[str] = []
        self.dir = Path(tempfile.mkdtemp(prefix="interlock-pg-"))  # short: socket path limit
        if os.geteuid() == 0:
            shutil.chown(self.dir, _OWNER, _OWNER)
            self._as_owner = ["runuser", "-u", _OWNER, "--"]
        self.data = self.dir / "data"
        self.port = free_ports(1)[0]
        self._running = False
        atexit.register(self.close)
        try:
            self._run("initdb", "-D", str(self.data), "--auth=trust", "-U", "postgres",
                      "--no-sync", "-E", "UTF8")  # fmt: skip
            self.start()
        except BaseException:
            self.close()
            raise

    @property
    def dsn(self) -> str:
        return f"host=127.0.0.1 port={self.port} dbname=postgres user=postgres"

    def start(self) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.dir / "log"),
                  "-w", "-t", str(int(self._timeout)), "start")  # fmt: skip
        self._running = True

    def stop(self) -> None:
        """Shut the server down now (`-m immediate`: like a crash, no checkpoint)."""
        if self._running:
            self._running = False
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def close(self) -> None:
        try:
            self.stop()
        except PostgresClusterError:
            pass
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)
            atexit.unregister(self.close)

    def __enter__(self) -> PostgresCluster:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _run(self, tool: str, *args: str) -> None:
        argv = [*self._as_owner, str(self._bin / tool), *args]
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=self._timeout + 5)
        except subprocess.TimeoutExpired as exc:
            raise PostgresClusterError(f"{tool} timed out{self._log_tail()}") from exc
        if done.returncode != 0:
            raise PostgresClusterError(
                f"{tool} exited {done.returncode}: {done.stderr.strip()}{self._log_tail()}"
            )

    def _log_tail(self) -> str:
        try:
            lines = (self.dir / "log").read_text().splitlines()[-10:]
        except OSError:
            return ""
        return "\n  server log: " + "\n  ".join(lines) if lines else ""
