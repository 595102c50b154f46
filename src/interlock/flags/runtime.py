"""The flag reader that strategy and router code uses: `flags.enabled("rlp")`.

It is the one read convention the linter recognises, so every read in code is a read the
linter and the build's manifest can see. An instance learns from the control plane which
flag *ids* are on and resolves its own names through its own manifest, never through a
name alone: if a stale build still believed "rlp" meant an old id, switching the new id on
would leave its "rlp" off rather than wake the old meaning. A snapshot is immutable and a
read is one dict lookup; a new set of enabled ids means a new `FlagSet`.
"""

from __future__ import annotations

from collections.abc import Iterable

from interlock.errors import FlagError
from interlock.flags.manifest import FlagManifest


class FlagSet:
    """Which of this build's flags are on, as of one control-plane snapshot."""

    __slots__ = ("_build", "_on")

    def __init__(self, manifest: FlagManifest, enabled_ids: Iterable[int] = ()) -> None:
        on = frozenset(enabled_ids)
        self._build = manifest.build
        self._on = {name: flag_id in on for name, flag_id in manifest.reads.items()}

    def enabled(self, name: str, /) -> bool:
        """Is flag `name` on? FlagError if this build's manifest does not declare it."""
        try:
            return self._on[name]
        except KeyError:
            raise FlagError(
                f"flag {name!r} is not in the manifest of build {self._build!r}; a build may "
                "read only the flags its manifest declares"
            ) from None

    def on(self) -> frozenset[str]:
        """The names that are on, for status displays."""
        return frozenset(name for name, value in self._on.items() if value)
