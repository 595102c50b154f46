"""docs/reject-codes.md documents every RejectCode, under its group, in enum order, and
nothing else; the groups of domain/reject.py cover the enum exactly once."""

from __future__ import annotations

import re
from pathlib import Path

from interlock.domain.reject import GROUPS, RejectCode

DOC = Path(__file__).resolve().parents[1] / "docs" / "reject-codes.md"
CODE_HEADING = re.compile(r"^### ([A-Z][A-Z0-9_]*)\s*$", re.MULTILINE)
GROUP_HEADING = re.compile(r"^## (.+?)\s*$", re.MULTILINE)


def _code_headings() -> list[str]:
    return CODE_HEADING.findall(DOC.read_text())


def _documented_groups() -> list[tuple[str, list[str]]]:
    """(group heading, its code headings) for every `## ` section that holds codes."""
    text = DOC.read_text()
    starts = [(m.start(), m.group(1)) for m in GROUP_HEADING.finditer(text)]
    found = []
    for i, (start, name) in enumerate(starts):
        end = starts[i + 1][0] if i + 1 < len(starts) else len(text)
        codes = CODE_HEADING.findall(text[start:end])
        if codes:
            found.append((name, codes))
    return found


def test_the_groups_partition_the_enum_in_its_order() -> None:
    assert [c for _, codes in GROUPS for c in codes] == list(RejectCode)


def test_every_reject_code_has_a_section() -> None:
    missing = [c.value for c in RejectCode if c.value not in _code_headings()]
    assert missing == [], f"docs/reject-codes.md lacks a '### CODE' section for {missing}"


def test_doc_has_no_section_for_a_code_that_does_not_exist() -> None:
    unknown = [h for h in _code_headings() if h not in RejectCode.__members__]
    assert unknown == [], f"docs/reject-codes.md documents codes that do not exist: {unknown}"


def test_sections_follow_the_enum_order_once_each() -> None:
    assert _code_headings() == [c.value for c in RejectCode]


def test_each_code_is_documented_under_its_group() -> None:
    assert _documented_groups() == [(name, [c.value for c in codes]) for name, codes in GROUPS]


def test_each_section_names_step_meaning_example_and_caller_action() -> None:
    text = DOC.read_text()
    for code in RejectCode:
        start = text.index(f"\n### {code.value}\n")
        end = text.find("\n#", start + 1)
        section = text[start : end if end != -1 else len(text)]
        for field in ("**Step:**", "**Means:**", "**Example:**", "**Caller:**"):
            assert field in section, f"{code.value}: no {field} line"
