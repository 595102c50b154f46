"""Every machine code lives in one enum (domain/reject.py): no code is spelled as a string
literal anywhere else in src/, every fault's `code` is a member, and every message built
from a code starts with it. The edges themselves are driven in tests/api/test_rest_codes.py
and tests/fix/test_fix_codes.py."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from interlock import errors
from interlock.domain.reject import FAULT_CODES, RejectCode, reject

SRC = Path(__file__).resolve().parents[1] / "src" / "interlock"
UPPER_SNAKE = re.compile(r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$")
LEADING = re.compile(r"^([A-Z][A-Z0-9_]*): ")
NOT_CODES = {
    "flags/lint.py": "FindingCode: a linter's findings about source, not an answer to a request",
    "journal/verify.py": "FindingKind: an audit's findings about a journal, not an answer to a"
    " request (as the linter's FindingCode)",
    "cli/admin_client.py": "INTERLOCK_ADMIN_URL/_TOKEN: environment variable names",
}
"""Files whose UPPER_SNAKE strings are not codes, and why."""


def _docstrings(tree: ast.Module) -> set[int]:
    ids: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


def _exported_names(tree: ast.Module) -> set[int]:
    ids: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            ids.update(id(n) for n in ast.walk(node.value))
    return ids


def _code_literals(source: str) -> list[str]:
    """`line: literal` for each string constant of `source` spelling a code: UPPER_SNAKE
    alone, or leading a text as `CODE: ` (docstrings and `__all__` names aside)."""
    tree = ast.parse(source)
    skip = _docstrings(tree) | _exported_names(tree)
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Constant) or not isinstance(node.value, str):
            continue
        text, lead = node.value, LEADING.match(node.value)
        if id(node) not in skip and (
            UPPER_SNAKE.match(text)
            or (lead and (UPPER_SNAKE.match(lead[1]) or lead[1] in RejectCode.__members__))
        ):
            found.append(f"{node.lineno}: {text[:50]!r}")
    return found


def test_no_code_is_a_string_literal_outside_the_enum() -> None:
    """`"NOT_FOUND"` or `f"SCHEMA_INVALID: ..."` anywhere but domain/reject.py is a code
    invented (or copied) outside the enum: build a Rejection and use its message."""
    found = [
        f"{name}:{hit}"
        for path in sorted(SRC.rglob("*.py"))
        if (name := path.relative_to(SRC).as_posix()) not in {"domain/reject.py", *NOT_CODES}
        for hit in _code_literals(path.read_text())
    ]
    assert found == []


def test_the_scan_finds_a_code_literal_when_there_is_one() -> None:
    source = (
        '"""MAX_ORDER_QTY: a docstring may name a code."""\n'
        '__all__ = ["STATUS_BY_CODE"]\n'
        'A = "NOT_FOUND"\nB = f"HALTED: {A}"\nC = "READY: not a code"\n'
    )
    assert _code_literals(source) == ["3: 'NOT_FOUND'", "4: 'HALTED: '"]


def test_every_fault_code_is_a_member_and_every_fault_member_a_fault() -> None:
    faults: list[type[errors.InterlockError]] = [errors.InterlockError]
    for cls in faults:
        faults.extend(cls.__subclasses__())
    codes = [cls.code for cls in faults]
    assert all(isinstance(c, RejectCode) for c in codes), codes
    assert set(codes) == set(FAULT_CODES)
    assert f"{errors.ConfigError.code}: bad" == "CONFIG_INVALID: bad"  # as the CLI prints it


@given(code=st.sampled_from(RejectCode), reason=st.text(min_size=1, max_size=80))
def test_every_rejection_message_starts_with_its_code(code: RejectCode, reason: str) -> None:
    r = reject(code, reason, 10_000, "20,000 shares")
    assert str(r) == r.message and r.message.startswith(f"{code.value}: ")
    assert RejectCode(r.message.split(": ", 1)[0]) is code


def test_a_typed_rejection_equals_the_one_read_back_from_its_journal_text() -> None:
    live = reject(RejectCode.MAX_ORDER_QTY, "quantity over limit", 10_000, 20_000)
    recovered = reject(RejectCode.MAX_ORDER_QTY, "quantity over limit", "10000", "20000")
    assert live == recovered and hash(live) == hash(recovered)
    assert live != reject(RejectCode.MAX_ORDER_QTY, "quantity over limit", 10_000, 20_001)
