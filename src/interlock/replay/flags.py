"""The one flag of the story, in Knight's world and in Interlock's.

Knight's world: a flag is a bit. The RLP build reads bit 1 as "rlp", the old build reads
the same bit as "power_peg", and switching it on for the RLP launch wakes Power Peg on any
server still running the old build. Interlock's world: "power_peg" (id 1) is retired, its
tombstone keeps the id, and "rlp" is a new identity (id 2): the manifests of the two builds
then disagree visibly, and the plane and the linter can refuse them.
"""

from __future__ import annotations

from pathlib import Path

from interlock.flags.manifest import FlagManifest
from interlock.flags.runtime import FlagSet
from interlock.replay.smars import PowerPegRouter, RlpRouter

KNIGHT_BIT = 1  # the flag id both of Knight's builds read
RLP_ID = 2  # the identity RLP gets in Interlock's registry
SMARS_DIR = Path(__file__).resolve().parent / "smars"
LEGACY_SOURCE = SMARS_DIR / "legacy.py"
RLP_SOURCE = SMARS_DIR / "rlp.py"

KNIGHT_MANIFESTS = {
    RlpRouter.build: FlagManifest(RlpRouter.build, {"rlp": KNIGHT_BIT}),
    PowerPegRouter.build: FlagManifest(PowerPegRouter.build, {"power_peg": KNIGHT_BIT}),
}
INTERLOCK_MANIFESTS = {
    RlpRouter.build: FlagManifest(RlpRouter.build, {"rlp": RLP_ID}),
    PowerPegRouter.build: FlagManifest(PowerPegRouter.build, {"power_peg": KNIGHT_BIT}),
}


def knight_flags(build: str) -> FlagSet:
    """The flags a router of `build` read on 1 August 2012: the reused bit switched on."""
    return FlagSet(KNIGHT_MANIFESTS[build], {KNIGHT_BIT})
