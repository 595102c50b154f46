"""docs/reject-codes.md documents every RejectCode, in enum order, and nothing else."""

from __future__ import annotations

import re
from pathlib import Path

from interlock.domain.reject import RejectCode

DOC = Path(__file__).resolve().parents[1] / "docs" / "reject-codes.md"
CODE_HEADING = re.compile(r"^## ([A-Z][A-Z0-9_]*)\s*$", re.MULTILINE)


def _code_headings() -> list[str]:
    return CODE_HEADING.findall(DOC.read_text())


def test_every_reject_code_has_a_section() -> None:
    missing = [c.value for c in RejectCode if c.value not in _code_headings()]
    assert missing == [], f"docs/reject-codes.md lacks a '## CODE' section for {missing}"


def test_doc_has_no_section_for_a_code_that_does_not_exist() -> None:
    unknown = [h for h in _code_headings() if h not in RejectCode.__members__]
    assert unknown == [], f"docs/reject-codes.md documents codes that do not exist: {unknown}"


def test_sections_follow_the_enum_order_once_each() -> None:
    assert _code_headings() == [c.value for c in RejectCode]


def test_each_section_names_step_meaning_example_and_caller_action() -> None:
    text = DOC.read_text()
    for code in RejectCode:
        start = text.index(f"\n## {code.value}\n")
        end = text.find("\n## ", start + 1)
        section = text[start : end if end != -1 else len(text)]
        for field in ("**Step:**", "**Means:**", "**Example:**", "**Caller:**"):
            assert field in section, f"{code.value}: no {field} line"
