"""docs/configuration.md is generated from the config models and must be up to date."""

from __future__ import annotations

import runpy
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_configuration_doc_matches_the_models() -> None:
    render = runpy.run_path(str(ROOT / "scripts" / "gen_config_doc.py"))["render"]
    current = (ROOT / "docs" / "configuration.md").read_text()
    assert current == render(), (
        "docs/configuration.md is out of date: run .venv/bin/python scripts/gen_config_doc.py"
    )


def test_configuration_doc_names_every_key_the_packaged_default_sets() -> None:
    text = (ROOT / "docs" / "configuration.md").read_text()
    default = tomllib.loads((ROOT / "src" / "interlock" / "data" / "default.toml").read_text())

    def leaves(value: object) -> set[str]:
        if isinstance(value, list):
            return set().union(*(leaves(v) for v in value))
        if not isinstance(value, dict):
            return set()
        found = set()
        for k, v in value.items():
            # (a table of dates, or of symbols, is one key: its own keys are data)
            is_table = isinstance(v, dict | list) and k not in ("position_overrides", "half_days")
            found |= leaves(v) if is_table else {k}
        return found

    missing = sorted(k for k in leaves(default) if f"| `{k}` |" not in text)
    assert missing == [], f"keys of default.toml missing from docs/configuration.md: {missing}"
