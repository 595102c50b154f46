"""A build's flag manifest: which flag names its code reads, and the id it believes each has.

On 1 August 2012 one router believed the reused flag meant Power Peg and seven believed it
meant RLP, and nothing compared their beliefs. A manifest makes a build's belief a value
the fleet can compare: it is attested (by `digest()`) with the build, a build whose
manifest disagrees with the registry may not join, and a flag is enabled only when every
live member's manifest declares its id. The manifest is made from source by the linter's
read finder, with ids from the registry as it stood when the build was made.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import msgspec

from interlock.errors import FlagError
from interlock.flags.lint import FindingCode, scan
from interlock.flags.registry import FlagRegistry

MANIFEST_FORMAT = "interlock-flag-manifest/1"


@dataclass(frozen=True, slots=True)
class FlagManifest:
    """`reads` maps each flag name the build reads to the id it believes that flag has."""

    build: str
    reads: Mapping[str, int]

    def __post_init__(self) -> None:
        if not isinstance(self.build, str) or not self.build.strip():
            raise FlagError("a flag manifest needs a non-empty build name")
        for name, flag_id in self.reads.items():
            if not isinstance(name, str) or not _is_id(flag_id):
                raise FlagError(
                    f"manifest of build {self.build!r}: {name!r} -> {flag_id!r} is not a flag "
                    "name and a positive id"
                )
        object.__setattr__(self, "reads", MappingProxyType(dict(sorted(self.reads.items()))))

    def __hash__(self) -> int:
        return hash((self.build, tuple(self.reads.items())))

    def canonical_json(self) -> str:
        """Sorted keys, no whitespace, ASCII: the same bytes in every process and Python."""
        document = {"format": MANIFEST_FORMAT, "build": self.build, "reads": dict(self.reads)}
        return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=True)

    def digest(self) -> str:
        """sha256 (hex) of the canonical JSON: what an instance attests as its flag digest."""
        return hashlib.sha256(self.canonical_json().encode("ascii")).hexdigest()

    def check(self, registry: FlagRegistry) -> list[str]:
        """Why this build may not join a fleet run by `registry` (empty: it may)."""
        reasons: list[str] = []
        for name, flag_id in self.reads.items():
            flag = registry.get(name)
            holder = registry.by_id(flag_id)
            if flag is None:
                taken = f"; id {flag_id} is {holder.describe()}" if holder is not None else ""
                reasons.append(f"reads unknown flag {name!r} as id {flag_id}{taken}")
            elif flag.retired:
                reasons.append(f"reads retired flag {flag.describe()}")
            elif flag_id != flag.flag_id:
                known = holder.name if holder is not None else "unknown id"
                reasons.append(
                    f"maps {name!r} to id {flag_id} ({known}); the registry has {name!r} "
                    f"as id {flag.flag_id}"
                )
        reasons.extend(
            f"does not declare enabled flag {flag.describe()}"
            for flag in registry.flags()
            if flag.enabled and flag.name not in self.reads
        )
        return reasons

    def to_json(self) -> str:
        """The manifest file: readable, and loadable by `load_manifest`."""
        document = {"format": MANIFEST_FORMAT, "build": self.build, "reads": dict(self.reads)}
        return json.dumps(document, indent=2, sort_keys=True) + "\n"


def _is_id(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


class _ManifestFile(msgspec.Struct, forbid_unknown_fields=True):
    build: str
    reads: dict[str, int]
    format: str = MANIFEST_FORMAT


def load_manifest(path: str | Path) -> FlagManifest:
    """Read a manifest file written by `to_json`; FlagError naming the file if it is bad."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise FlagError(f"cannot read flag manifest {path}: {exc.strerror or exc}") from None
    try:
        document = msgspec.json.decode(raw, type=_ManifestFile)
    except msgspec.DecodeError as exc:
        raise FlagError(f"flag manifest {path} is not a valid manifest: {exc}") from None
    if document.format != MANIFEST_FORMAT:
        raise FlagError(f"flag manifest {path}: unknown format {document.format!r}")
    return FlagManifest(document.build, document.reads)


def manifest_from_source(
    paths: Iterable[str | Path], build: str, registry: FlagRegistry
) -> FlagManifest:
    """The manifest of the code under `paths`, with each name's id from `registry`.

    Refused if a read cannot be mapped to an id: a file that does not parse, a dynamic
    read, or a name the registry has never held. A retired flag's read is kept under its
    tombstone id, so `check` refuses the build honestly instead of the manifest hiding it.
    """
    _, reads, broken = scan(paths)
    problems = [str(f) for f in broken if f.code is FindingCode.FLAG_UNPARSABLE]
    found: dict[str, int] = {}
    for read in reads:
        flag = registry.get(read.name) if read.name is not None else None
        if read.name is None:
            problems.append(f"{read.path}:{read.line}: dynamic flag read `{read.text}`")
        elif flag is None:
            problems.append(f"{read.path}:{read.line}: unknown flag {read.name!r}")
        else:
            found[flag.name] = flag.flag_id
    if problems:
        raise FlagError(f"cannot make the flag manifest of build {build!r}: " + "; ".join(problems))
    return FlagManifest(build, found)
