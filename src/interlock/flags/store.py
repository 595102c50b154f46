"""The registry on disk for the CLI: one JSON file, read and written whole, atomically.

The file keeps the full event history (so tombstones survive every round trip: a retired
name stays unusable forever) and, for people reading it, the flag table that history folds
into. Loading folds the history and refuses the file unless the table agrees, so a
hand-edited or half-written file is reported as corrupt instead of silently trusted.
Writes go to a temp file in the same directory, fsync, then `os.replace`: a crash leaves
either the old registry or the new one, never a torn one. In a fleet the registry lives in
the control plane; this file is for a single operator's workstation and for tests.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import msgspec

from interlock.domain.flag_events import FlagEvent
from interlock.errors import FlagError
from interlock.flags.registry import Flag, FlagRegistry

STORE_FORMAT = "interlock-flags/1"


class _StoreFile(msgspec.Struct, forbid_unknown_fields=True):
    format: str
    flags: list[Flag]
    history: list[FlagEvent]


_DECODER = msgspec.json.Decoder(_StoreFile)


def load_registry(path: str | Path, clock: Callable[[], int] = time.time_ns) -> FlagRegistry:
    """The registry saved at `path`; an empty one if there is no file; FlagError if corrupt."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return FlagRegistry(clock)
    except OSError as exc:
        raise FlagError(f"cannot read flag registry {path}: {exc.strerror or exc}") from None
    try:
        document = _DECODER.decode(raw)
    except msgspec.DecodeError as exc:
        raise FlagError(f"flag registry {path} is corrupt: {exc}") from None
    if document.format != STORE_FORMAT:
        raise FlagError(
            f"flag registry {path} has format {document.format!r}, expected {STORE_FORMAT!r}"
        )
    try:
        registry = FlagRegistry.from_history(document.history, clock)
    except FlagError as exc:
        raise FlagError(f"flag registry {path} is corrupt: {exc}") from None
    if tuple(document.flags) != registry.flags():
        raise FlagError(
            f"flag registry {path} is corrupt: its flag table disagrees with its history "
            "(was it edited by hand?)"
        )
    return registry


def save_registry(registry: FlagRegistry, path: str | Path) -> None:
    """Write the whole registry to `path` atomically (temp file, fsync, rename, fsync dir)."""
    path = Path(path)
    document = _StoreFile(STORE_FORMAT, list(registry.flags()), list(registry.history))
    data = msgspec.json.format(msgspec.json.encode(document), indent=2) + b"\n"
    directory = path.parent
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
        try:
            os.fchmod(fd, _mode_of(path))
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        _fsync_directory(directory)
    except OSError as exc:
        raise FlagError(f"cannot write flag registry {path}: {exc.strerror or exc}") from None


def _mode_of(path: Path) -> int:
    """Keep an existing file's permissions; a new registry is readable by all (0644)."""
    try:
        return path.stat().st_mode & 0o7777
    except FileNotFoundError:
        return 0o644


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable (a no-op where directories cannot be opened)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
