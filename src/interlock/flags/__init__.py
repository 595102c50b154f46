"""Feature flags with permanent identities: registry, manifests, enable preflight, linter."""

from interlock.domain.flag_events import (
    FlagDisabled,
    FlagEnabled,
    FlagEvent,
    FlagRegistered,
    FlagRetired,
)
from interlock.flags.lint import Finding, FindingCode, FlagRead, find_reads, lint
from interlock.flags.manifest import FlagManifest, load_manifest, manifest_from_source
from interlock.flags.registry import Flag, FlagRegistry
from interlock.flags.runtime import FlagSet
from interlock.flags.store import load_registry, save_registry

__all__ = [
    "Finding",
    "FindingCode",
    "Flag",
    "FlagDisabled",
    "FlagEnabled",
    "FlagEvent",
    "FlagManifest",
    "FlagRead",
    "FlagRegistered",
    "FlagRegistry",
    "FlagRetired",
    "FlagSet",
    "find_reads",
    "lint",
    "load_manifest",
    "load_registry",
    "manifest_from_source",
    "save_registry",
]
