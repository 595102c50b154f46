"""Attestation: what an instance proves it runs, so a stale build cannot trade.

Knight's eighth server ran old code because nothing compared what each server ran with
what was approved. An instance here names its build by a digest of the installed package's
files (not a version string a person typed), its flag manifest by the manifest itself and
its digest, and its configuration by `GatewayConfig.fleet_digest()` (the settings every
member must share: limits, instruments, calendar, monitors, fleet; not its own name,
journal or listeners), and registers all three with its host and pid under its lease. The
gate compares build, flags and config with the release (a straggler with the right build
but edited limits is refused like one on the old build); the plane checks the manifest
matches its digest and judges it against the flag registry.
"""

from __future__ import annotations

import functools
import hashlib
import os
import socket
from pathlib import Path

import interlock
from interlock.control.plane import Attestation, Release
from interlock.flags.manifest import FlagManifest


def tree_digest(root: Path) -> str:
    """sha256 over every file under `root`: sorted relative paths, each with its bytes.

    Compiled caches (`__pycache__`, `*.pyc`) are left out: they differ between machines
    running the same source. Path and length prefixes keep a rename or a split visible.
    """
    h = hashlib.sha256()
    files = sorted(
        (p.relative_to(root).as_posix(), p)
        for p in root.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    )
    for rel, path in files:
        data = path.read_bytes()
        name = rel.encode()
        h.update(len(name).to_bytes(4, "big") + name + len(data).to_bytes(8, "big"))
        h.update(data)
    return h.hexdigest()


@functools.cache
def installed_build_digest() -> str:
    """The digest of the `interlock` package this process imported (computed once)."""
    return tree_digest(Path(interlock.__file__).resolve().parent)


def attest(
    instance_id: str,
    config_digest: str,
    build_digest: str | None = None,
    flag_digest: str = "",
    manifest: FlagManifest | None = None,
) -> Attestation:
    """This process's attestation; the build digest is computed unless one is given, and the
    flag digest is the manifest's unless one is given (the plane checks they agree)."""
    build = installed_build_digest() if build_digest is None else build_digest
    flags = flag_digest or (manifest.digest() if manifest is not None else "")
    return Attestation(
        instance_id, build, flags, config_digest, socket.gethostname(), os.getpid(), manifest
    )


def mismatch(release: Release, attestation: Attestation) -> str | None:
    """Why `attestation`'s build, flag manifest or config is not the released one (or None).

    An empty digest in the release approves any (nothing released yet)."""
    if release.build_digest and release.build_digest != attestation.build_digest:
        return (
            f"build {attestation.build_digest or '(none)'} is not the released "
            f"{release.build_digest}"
        )
    if release.flag_digest and release.flag_digest != attestation.flag_digest:
        return (
            f"flag manifest {attestation.flag_digest or '(none)'} is not the released "
            f"{release.flag_digest}"
        )
    if release.config_digest and release.config_digest != attestation.config_digest:
        return (
            f"config {short(attestation.config_digest)} is not the released "
            f"{short(release.config_digest)}"
        )
    return None


def short(digest: str) -> str:
    """A digest for people: its first 12 characters."""
    return digest[:12] if digest else "(none)"
