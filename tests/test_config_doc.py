"""docs/configuration.md is generated from the config models and must be up to date."""

from __future__ import annotations

import re
import runpy
import tomllib
import typing
from pathlib import Path

from pydantic import BaseModel

from interlock.api.config import ServeConfig

ROOT = Path(__file__).resolve().parents[1]


def test_configuration_doc_matches_the_models() -> None:
    render = runpy.run_path(str(ROOT / "scripts" / "gen_config_doc.py"))["render"]
    current = (ROOT / "docs" / "configuration.md").read_text()
    assert current == render(), (
        "docs/configuration.md is out of date: run .venv/bin/python scripts/gen_config_doc.py"
    )


DATA_TABLES = ("position_overrides", "half_days", "shares")


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
            is_table = isinstance(v, dict | list) and k not in DATA_TABLES
            found |= leaves(v) if is_table else {k}
        return found

    missing = sorted(k for k in leaves(default) if f"| `{k}` |" not in text)
    assert missing == [], f"keys of default.toml missing from docs/configuration.md: {missing}"


def _models(annotation: object) -> set[type[BaseModel]]:
    """The config models inside a field's type: itself, or in `X | None`, lists, tables."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return {annotation}
    return set().union(*(_models(a) for a in typing.get_args(annotation)))


def test_configuration_doc_names_every_key_of_every_model_the_file_is_read_with() -> None:
    """Every field of every model under the whole file's (transports included, `[fix]`
    too, which the packaged default leaves out) is a row or a section of the doc."""
    text = (ROOT / "docs" / "configuration.md").read_text()
    models, todo = set(), [ServeConfig]
    while todo:
        model = todo.pop()
        models.add(model)
        for field in model.model_fields.values():
            todo += [m for m in _models(field.annotation) if m not in models]
    keys = {name for m in models for name in m.model_fields}
    headers = re.findall(r"^## `\[\[?([^\]]+)\]\]?`", text, re.MULTILINE)
    documented = {part for h in headers for part in h.split(".")}
    missing = sorted(k for k in keys if f"| `{k}` |" not in text and k not in documented)
    assert missing == [], f"config keys missing from docs/configuration.md: {missing}"
