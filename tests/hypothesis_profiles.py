"""Hypothesis profiles: `ci` (the default, what `bash scripts/test.sh` runs) and `thorough`.

Why two: the properties that build heavy state per example (a gateway, a journal on disk,
a fleet of instances) find their bugs within a few dozen examples, yet at the counts a
long search wants they cost minutes of every CI run. `ci` keeps each count at what catches
the bugs the suite was built against (docs/testing.md says how each was checked);
`thorough` restores the long searches for a release or after touching the risk core:

    HYPOTHESIS_PROFILE=thorough .venv/bin/pytest -q tests/props tests/fleet
    .venv/bin/pytest -q --hypothesis-profile=thorough tests/props     # the same

`tests/conftest.py` loads the profile; tests take their counts from `examples`.
"""

from __future__ import annotations

import os

from hypothesis import settings

PROFILES = ("ci", "thorough")
ENV = "HYPOTHESIS_PROFILE"

# deadline=None everywhere: a loaded 2-core CI machine makes per-example timing noise,
# and no property here is about speed.
settings.register_profile("ci", deadline=None)
settings.register_profile("thorough", deadline=None, max_examples=1_000)


def load_from_env() -> str:
    """Load the profile `HYPOTHESIS_PROFILE` names (default `ci`); its name. An unknown
    name is refused with the names there are, never run as some default."""
    name = os.environ.get(ENV, "ci")
    if name not in PROFILES:
        raise ValueError(f"{ENV}={name!r} is not a profile here; use one of {', '.join(PROFILES)}")
    settings.load_profile(name)
    return name


def is_thorough() -> bool:
    return settings.get_current_profile_name() == "thorough"


def examples(ci: int, thorough: int) -> int:
    """The `max_examples` of one property: `ci` in the default profile, `thorough` under
    `thorough`. Read when the test module is imported (after the profile is loaded)."""
    return thorough if is_thorough() else ci
