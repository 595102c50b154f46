"""The flag release gate: a build whose flags disagree with the registry is never proposed.

Knight's Power Peg code sat behind a flag for nine years and a release reused the flag
without anyone asking what code the flag still reached. `Deployment.propose` runs this gate
before a proposal exists, and it refuses the build when any of these hold:

- the linter finds anything in the build's source (a read of a retired or unknown flag,
  code reachable only under a retired flag, a registered flag no code reads and no live
  member reads either, ...);
- the proposed flag manifest is one the registry would refuse at join
  (`FlagManifest.check`: a retired flag read, a name mapped to another id, an enabled flag
  not declared);
- the proposal's flag digest is not the digest of the proposed manifest, or the manifest
  is not the one the source itself makes (`manifest_from_source`), so what instances will
  attest is exactly what the code reads.

Every rule is the flags package's; this module only puts them in front of a deploy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from interlock.control.attestation import short
from interlock.control.deploy import ProposalCheck
from interlock.control.plane import Proposal
from interlock.errors import FlagError
from interlock.flags.lint import lint
from interlock.flags.manifest import FlagManifest, manifest_from_source
from interlock.flags.registry import FlagRegistry


def flag_preflight(
    src_paths: Sequence[str | Path],
    registry: FlagRegistry,
    build: str,
    manifest: FlagManifest | None = None,
    registry_label: str = "flag registry",
    live_manifests: Mapping[str, FlagManifest] | None = None,
) -> ProposalCheck:
    """The gate for releasing the source under `src_paths` as `build`, against `registry`
    (pass a fresh snapshot: `plane.flag_registry()`). `manifest` is the manifest the build
    ships with; None proposes the one its source makes. `live_manifests` (the live members',
    `fleetflags.live_manifests(plane.members())`): a flag they still read is not unread, so
    a build that drops a flag can be deployed before the flag is retired."""
    paths = tuple(src_paths)

    def gate(proposal: Proposal) -> list[str]:
        findings = [str(f) for f in lint(paths, registry, registry_label, live_manifests)]
        try:
            source = manifest_from_source(paths, build, registry)
        except FlagError as exc:
            findings.append(str(exc))
            source = None
        proposed = manifest if manifest is not None else source
        if proposed is None:
            return findings
        findings += [
            f"flag manifest of build {proposed.build!r}: {reason}"
            for reason in proposed.check(registry)
        ]
        if proposed.digest() != proposal.flag_digest:
            findings.append(
                f"the proposal's flag digest {short(proposal.flag_digest)} is not the digest "
                f"{short(proposed.digest())} of the flag manifest of build {proposed.build!r}"
            )
        if source is not None and source != proposed:
            findings.append(
                f"the flag manifest shipped ({_reads(proposed)}) is not the one the source "
                f"makes ({_reads(source)})"
            )
        return findings

    return gate


def _reads(manifest: FlagManifest) -> str:
    reads = ", ".join(f"{name!r} -> {flag_id}" for name, flag_id in manifest.reads.items())
    return f"build {manifest.build!r} reads {reads or 'no flags'}"
