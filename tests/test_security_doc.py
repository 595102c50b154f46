"""docs/security.md is generated from the auth matrix's expectations and must be current."""

from __future__ import annotations

import runpy
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_security_doc_matches_the_auth_matrix_expectations() -> None:
    render = runpy.run_path(str(ROOT / "scripts" / "gen_security_doc.py"))["render"]
    current = (ROOT / "docs" / "security.md").read_text()
    assert current == render(), (
        "docs/security.md is out of date: run .venv/bin/python scripts/gen_security_doc.py"
    )
