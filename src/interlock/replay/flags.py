"""The one flag of the story, in Knight's world and in Interlock's.

Knight's world: a flag is a bit. The RLP build reads bit 1 as "rlp", the old build reads
the same bit as "power_peg", and switching it on for the RLP launch wakes Power Peg on any
server still running the old build. Interlock's world: "rlp" is a new identity (id 2), and
"power_peg" (id 1) cannot be retired while a live router still reads it. The old build's
attested manifest is the binary as the RLP launch left it: its code reads bit 1 as
"power_peg", and the launch's flag configuration (which reached every server, unlike the
code) switches "rlp" on as that same bit 1, the reused flag. So the two builds' manifests
disagree visibly, and the plane and the release gate refuse the old one: it maps "rlp"
to Power Peg's id.
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
    PowerPegRouter.build: FlagManifest(
        PowerPegRouter.build, {"power_peg": KNIGHT_BIT, "rlp": KNIGHT_BIT}
    ),
}


def knight_flags(build: str) -> FlagSet:
    """The flags a router of `build` read on 1 August 2012: the reused bit switched on."""
    return FlagSet(KNIGHT_MANIFESTS[build], {KNIGHT_BIT})
