"""Real `interlock serve` processes on one control plane, for fleet tests and benchmarks.

Each process gets its own config (instance id, journal, REST and admin on loopback ports the
OS picks, always-open calendar so tests run at any hour) written from the packaged default,
and is started as `python -m interlock serve --config ...`. It announces the ports it bound
on stdout; the harness reads them from there, never guesses. A process may run another
build: `build_dir` is put first on PYTHONPATH, so that process imports (and attests the
digest of) the `interlock` package under it, as an un-upgraded server would.

Everything here is bounded: every wait has a deadline and every process is stopped by
`close()` (and killed by the parent's death: `procs.die_with_parent`).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from interlock.control.etcd_client import parse_endpoints
from interlock.sim.harness import DESK_KEY
from interlock.sim.partition import Partition
from interlock.sim.procs import die_with_parent, stop_process

ADMIN_TOKEN = "demo-admin-token"  # the packaged config's demo admin token
_ANNOUNCED = re.compile(r"^(rest|admin) listening on (https?://\S+)")
_PACKAGED = Path(__file__).resolve().parent.parent / "data"


def packaged_config() -> dict[str, Any]:
    (path,) = _PACKAGED.glob("*.toml")
    with path.open("rb") as f:
        return tomllib.load(f)


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()  # TOML's own date and time literals
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_key(k)} = {_toml(v)}" for k, v in value.items()) + "}"
    text = str(value)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _key(k: str) -> str:
    return k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else _toml(k)


def _is_tables(v: object) -> bool:
    return isinstance(v, list) and bool(v) and all(isinstance(i, dict) for i in v)


def dump_toml(table: Mapping[str, Any], path: str = "") -> str:
    """A config table as TOML: tables as `[a.b]`, arrays of tables as `[[a.b]]`."""
    lines = [
        f"{_key(k)} = {_toml(v)}"
        for k, v in table.items()
        if not isinstance(v, dict) and not _is_tables(v)
    ]
    for k, v in table.items():
        name = f"{path}.{_key(k)}" if path else _key(k)
        if isinstance(v, dict):
            lines += ["", f"[{name}]", dump_toml(v, name).rstrip("\n")]
        elif _is_tables(v):
            for item in v:
                lines += ["", f"[[{name}]]", dump_toml(item, name).rstrip("\n")]
    return "\n".join(lines) + "\n"


def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in extra.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def build_copy(dest: Path, change: str = "# another build\n") -> Path:
    """A copy of this `interlock` package under `dest` with one file changed: a different
    build, as the old code on Knight's eighth server was. Returns the dir for PYTHONPATH."""
    src = Path(__file__).resolve().parent.parent
    shutil.copytree(src, dest / "interlock", ignore=shutil.ignore_patterns("__pycache__"))
    with (dest / "interlock" / "__init__.py").open("a") as f:
        f.write(change)
    return dest


@dataclass
class ServeProcess:
    instance_id: str
    workdir: Path
    proc: subprocess.Popen[bytes]
    partition: Partition | None = None  # set when started cut-able from the control plane
    rest_url: str = ""
    admin_url: str = ""
    output: list[str] = field(default_factory=list)
    _announced: threading.Event = field(default_factory=threading.Event)

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            line = raw.decode(errors="replace").rstrip("\n")
            self.output.append(line)
            m = _ANNOUNCED.match(line.strip())
            if m:
                if m.group(1) == "rest":
                    self.rest_url = m.group(2)
                else:
                    self.admin_url = m.group(2)
            if self.rest_url and self.admin_url:
                self._announced.set()
        self._announced.set()  # the process ended: stop waiting for it

    def wait_started(self, timeout_s: float = 30.0) -> ServeProcess:
        if not self._announced.wait(timeout_s) or not (self.rest_url and self.admin_url):
            raise RuntimeError(f"{self.instance_id} did not start:\n" + self.log_tail())
        return self

    def log_tail(self, n: int = 40) -> str:
        return "\n".join(self.output[-n:])

    # -- the order port and the admin port ---------------------------------------------

    def submit(
        self,
        client_order_id: str,
        *,
        symbol: str = "AAPL",
        side: str = "buy",
        quantity: int = 100,
        price: str | None = "100.00",
        account: str = "desk-7",
        strategy: str = "vwap",
        timeout_s: float = 5.0,
    ) -> httpx.Response:
        """A limit order at `price`; with `price=None` a market order."""
        body: dict[str, object] = {
            "client_order_id": client_order_id,
            "account": account,
            "strategy": strategy,
            "symbol": symbol,
            "side": side,
            "quantity": quantity,
        }
        if price is None:
            body["order_type"] = "market"
        else:
            body["limit_price"] = price
        return httpx.post(
            f"{self.rest_url}/orders",
            json=body,
            timeout=timeout_s,
            headers={"Authorization": f"Bearer {DESK_KEY}"},
        )

    def positions(self, account: str = "desk-7") -> dict[str, tuple[int, int]]:
        """`account`'s (position, open buy) by symbol, from the order port."""
        rows = httpx.get(f"{self.rest_url}/positions", timeout=5.0,
                         headers={"Authorization": f"Bearer {DESK_KEY}"}).json()  # fmt: skip
        return {r["symbol"]: (r["position"], r["open_buy"]) for r in rows
                if r["account"] == account}  # fmt: skip

    def order(self, order_id: int | str) -> dict[str, Any]:
        """The order as the order port shows it (status, filled, leaves)."""
        view: dict[str, Any] = httpx.get(
            f"{self.rest_url}/orders/{order_id}", timeout=5.0,
            headers={"Authorization": f"Bearer {DESK_KEY}"},
        ).json()  # fmt: skip
        return view

    def admin(self, method: str, path: str, body: Any = None, timeout_s: float = 10.0) -> Any:
        r = httpx.request(
            method,
            f"{self.admin_url}{path}",
            json=body,
            timeout=timeout_s,
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        )
        r.raise_for_status()
        return r.json()

    def fleet(self) -> dict[str, Any]:
        view: dict[str, Any] = self.admin("GET", "/fleet")
        return view

    def gate(self, timeout_s: float = 2.0) -> str:
        """'routing', or the code this process refuses orders with, from its /health (which
        asks nothing of the plane); 'unreachable' if it does not answer."""
        try:
            r = httpx.get(f"{self.rest_url}/health", timeout=timeout_s)
            return str(r.json()["gate"])
        except (httpx.HTTPError, ValueError, KeyError):
            return "unreachable"

    def health(self, timeout_s: float = 2.0) -> dict[str, Any]:
        """The member's /health (gate, lease deadline); {} if it does not answer."""
        try:
            view: dict[str, Any] = httpx.get(f"{self.rest_url}/health", timeout=timeout_s).json()
            return view
        except (httpx.HTTPError, ValueError):
            return {}

    def halt(self, reason: str, scope: str = "global", target: str = "") -> dict[str, Any]:
        report: dict[str, Any] = self.admin(
            "POST", "/halt", {"scope": scope, "target": target, "reason": reason}
        )
        return report

    # -- process control ------------------------------------------------------------------

    def signal(self, sig: signal.Signals) -> None:
        """Send `sig` (SIGSTOP, SIGCONT, SIGKILL) to the process, if it still runs."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)

    def stop(self, timeout_s: float = 15.0) -> None:
        if self.partition is not None:
            self.partition.close(timeout_s)  # stops the process, then removes its rules
        else:
            stop_process(self.proc, timeout_s)


class ServeFleet:
    """`n` serve processes (gw-1..gw-n) on the control plane at `control_plane`."""

    def __init__(
        self,
        workdir: Path,
        control_plane: str,
        *,
        prefix: str = "interlock/test",
        ttl_ms: int = 2_000,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        self.workdir = workdir
        self.control_plane = control_plane
        self.prefix = prefix
        self.ttl_ms = ttl_ms
        self.extra = dict(extra or {})
        self.members: dict[str, ServeProcess] = {}

    def config(self, instance_id: str) -> dict[str, Any]:
        base = packaged_config()
        d = self.workdir / instance_id
        table = _merge(
            base,
            {
                "instance_id": instance_id,
                "lease_ttl_ms": self.ttl_ms,
                "journal": {"path": str(d / "journal.db")},
                "rest": {"port": 0},
                "admin": {"port": 0},
                "calendar": {"always_open": True},
                "control_plane": {"url": self.control_plane, "prefix": self.prefix},
            },
        )
        return _merge(table, self.extra)

    def start(
        self,
        instance_id: str,
        *,
        build_dir: Path | None = None,
        config: Mapping[str, Any] | None = None,
        partitionable: bool = False,
    ) -> ServeProcess:
        """Start one member; `partitionable` starts it inside a `Partition` whose
        `isolate()` cuts it off from every etcd endpoint (and only it)."""
        d = self.workdir / instance_id
        d.mkdir(parents=True, exist_ok=True)
        cfg = d / "config.toml"
        cfg.write_text(dump_toml(_merge(self.config(instance_id), dict(config or {}))))
        env = dict(os.environ, PYTHONUNBUFFERED="1", COLUMNS="200")
        if build_dir is not None:
            env["PYTHONPATH"] = os.pathsep.join([str(build_dir), env.get("PYTHONPATH", "")])
        argv = [sys.executable, "-m", "interlock.cli", "serve", "--config", str(cfg)]
        partition = None
        if partitionable:
            ports = [port for _, port in parse_endpoints(self.control_plane)]
            partition = Partition(argv, ports=ports, env=env, cwd=d, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT)  # fmt: skip
            proc = partition.process
        else:
            proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, cwd=d, env=env,
                                    preexec_fn=die_with_parent)  # fmt: skip
        member = ServeProcess(instance_id, d, proc, partition=partition)
        threading.Thread(target=member._read, name=f"{instance_id}-out", daemon=True).start()
        self.members[instance_id] = member
        return member

    def start_all(self, ids: Iterable[str], **kwargs: Any) -> list[ServeProcess]:
        started = [self.start(i, **kwargs) for i in ids]
        return [p.wait_started() for p in started]

    def __getitem__(self, instance_id: str) -> ServeProcess:
        return self.members[instance_id]

    def close(self) -> None:
        for p in self.members.values():
            p.stop()

    def __enter__(self) -> ServeFleet:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def wait_until(
    predicate: Callable[[], bool], timeout_s: float, what: str, poll_s: float = 0.05
) -> float:
    """Poll until `predicate()`; the seconds it took. AssertionError naming `what` if not."""
    start = time.monotonic()
    while True:
        if predicate():
            return time.monotonic() - start
        if time.monotonic() - start > timeout_s:
            raise AssertionError(f"not within {timeout_s} s: {what}")
        time.sleep(poll_s)
