"""The release-gate linter: flag reads in Python source, checked against the registry by AST.

Knight's dead Power Peg code sat in the router for nine years, still callable behind a
flag; nothing ever asked "which code can this flag still reach?". This linter asks it
before every release, from source alone (nothing is imported or run).

The one convention for reading a flag (what `interlock.flags.runtime.FlagSet` offers):

    flags.enabled("rlp")          # a call of a method named `enabled`, on any object,
                                  # with exactly one positional argument and no keywords

The argument must be a string literal: the name is the flag's permanent name, and the
build's manifest maps it to the flag's id. Any other argument (a variable, an f-string)
is still a flag read, but one that cannot be verified. Findings, each one line
`file:line: CODE: sentence`:

    FLAG_UNKNOWN        a read of a name the registry does not hold
    FLAG_RETIRED_READ   a read of a retired flag (a tombstone is never on again)
    FLAG_UNREAD         an active registered flag that no code reads (file: the registry);
                        given the fleet's live manifests, not one a live member still reads:
                        its retire is refused until they have gone, so a deploy of a build
                        that drops it must pass first (then retire it)
    FLAG_DEAD_CODE      the body or else-branch of an `if` that can run only while a retired
                        flag is on, reported as a line range
    FLAG_DYNAMIC        a read whose name is not a string literal
    FLAG_UNPARSABLE     a file that is not valid Python, so its reads cannot be checked
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Final

from interlock.errors import FlagError
from interlock.flags.registry import FlagRegistry

if TYPE_CHECKING:
    from interlock.flags.manifest import FlagManifest

READ_METHOD: Final = "enabled"


class FindingCode(StrEnum):
    """Stable codes of the linter's findings: never renamed or reused."""

    FLAG_UNKNOWN = "FLAG_UNKNOWN"
    FLAG_RETIRED_READ = "FLAG_RETIRED_READ"
    FLAG_UNREAD = "FLAG_UNREAD"
    FLAG_DEAD_CODE = "FLAG_DEAD_CODE"
    FLAG_DYNAMIC = "FLAG_DYNAMIC"
    FLAG_UNPARSABLE = "FLAG_UNPARSABLE"


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem at `path:line` (`line` 0: the file as a whole; `end_line` for a range)."""

    path: str
    line: int
    code: FindingCode
    message: str
    end_line: int = 0

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.code.value}: {self.message}"


@dataclass(frozen=True, slots=True)
class FlagRead:
    """One flag read in source. `name` is None for a dynamic read; `text` is its argument."""

    path: str
    line: int
    name: str | None
    text: str


def python_files(paths: Iterable[str | Path]) -> list[Path]:
    """The files to scan: each file given, and every `*.py` under each directory given."""
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(p for p in sorted(path.rglob("*.py")) if not _hidden(p, path))
        elif path.is_file():
            files.append(path)
        else:
            raise FlagError(f"cannot lint {path}: no such file or directory")
    return files


def scan(
    paths: Iterable[str | Path],
) -> tuple[list[tuple[str, ast.Module]], list[FlagRead], list[Finding]]:
    """Parse every file; return (path, tree) pairs, every flag read, one finding per bad file."""
    trees: list[tuple[str, ast.Module]] = []
    reads: list[FlagRead] = []
    broken: list[Finding] = []
    for file in python_files(paths):
        try:
            tree = ast.parse(file.read_bytes(), filename=str(file))
        except (SyntaxError, ValueError, OSError) as exc:
            line = getattr(exc, "lineno", None) or 0
            reason = f"cannot parse this file ({exc}), so its flag reads are unchecked"
            broken.append(Finding(str(file), line, FindingCode.FLAG_UNPARSABLE, reason))
            continue
        trees.append((str(file), tree))
        reads.extend(find_reads(tree, str(file)))
    return trees, reads, broken


def find_reads(tree: ast.AST, path: str) -> list[FlagRead]:
    """Every call that follows the read convention, in source order."""
    found = [
        FlagRead(path, node.lineno, _literal(node.args[0]), ast.unparse(node.args[0]))
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and _is_read(node)
    ]
    return sorted(found, key=lambda r: r.line)


def lint(
    paths: Iterable[str | Path],
    registry: FlagRegistry,
    registry_path: str = "flag registry",
    live_manifests: Mapping[str, FlagManifest] | None = None,
) -> list[Finding]:
    """Every finding for the source under `paths` against `registry`, by file and line.
    `live_manifests` (the fleet's live members, if known): a flag one of them reads is not
    FLAG_UNREAD, since it cannot be retired yet."""
    live = live_manifests or {}
    trees, reads, findings = scan(paths)
    for read in reads:
        findings.extend(_check_read(read, registry))
    retired = frozenset(f.name for f in registry.flags() if f.retired)
    for path, tree in trees:
        findings.extend(_dead_code(tree, path, retired))
    read_names = {r.name for r in reads}
    for flag in registry.flags():
        if (
            not flag.retired
            and flag.name not in read_names
            and not registry.readers(flag.name, live)
        ):
            message = f"flag {flag.describe()} is active but no code reads it: retire it"
            findings.append(Finding(registry_path, 0, FindingCode.FLAG_UNREAD, message))
    return sorted(findings, key=lambda f: (f.path, f.line, f.code.value, f.message))


def _check_read(read: FlagRead, registry: FlagRegistry) -> list[Finding]:
    if read.name is None:
        code = FindingCode.FLAG_DYNAMIC
        message = (
            f"reads a flag named by `{read.text}`, not a string literal: which flag it reads "
            "cannot be verified"
        )
    elif (flag := registry.get(read.name)) is None:
        code = FindingCode.FLAG_UNKNOWN
        message = f"reads flag {read.name!r}, which is not in the flag registry"
    elif flag.retired:
        code = FindingCode.FLAG_RETIRED_READ
        message = f"reads retired flag {flag.describe()}: a retired flag is never on again"
    else:
        return []
    return [Finding(read.path, read.line, code, message)]


def _dead_code(tree: ast.Module, path: str, retired: frozenset[str]) -> list[Finding]:
    findings: list[Finding] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.If):
            continue
        truth = _truth(node.test, retired)
        dead = node.body if truth is False else node.orelse if truth is True else []
        if not dead:
            continue
        names = sorted({r.name for r in find_reads(node.test, path) if r.name in retired})
        first, last = dead[0].lineno, dead[-1].end_lineno or dead[-1].lineno
        where = f"lines {first}-{last}" if last > first else f"line {first}"
        flags = ", ".join(repr(n) for n in names)
        message = (
            f"{where} can run only if retired flag{'s' if len(names) > 1 else ''} {flags} "
            "were on, and a retired flag is never on again: remove the dead code"
        )
        findings.append(Finding(path, first, FindingCode.FLAG_DEAD_CODE, message, last))
    return findings


def _truth(test: ast.expr, retired: frozenset[str]) -> bool | None:
    """The value of an `if` test when every retired flag reads False; None if unknown."""
    if isinstance(test, ast.Call) and _is_read(test):
        return False if _literal(test.args[0]) in retired else None
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        inner = _truth(test.operand, retired)
        return None if inner is None else not inner
    if isinstance(test, ast.BoolOp):
        values = [_truth(v, retired) for v in test.values]
        decisive = isinstance(test.op, ast.Or)  # `or` is settled by a True, `and` by a False
        if any(v is decisive for v in values):
            return decisive
        return (not decisive) if all(v is (not decisive) for v in values) else None
    return None


def _is_read(call: ast.Call) -> bool:
    return (
        isinstance(call.func, ast.Attribute)
        and call.func.attr == READ_METHOD
        and len(call.args) == 1
        and not call.keywords
        and not isinstance(call.args[0], ast.Starred)
    )


def _literal(arg: ast.expr) -> str | None:
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return arg.value
    return None


def _hidden(file: Path, root: Path) -> bool:
    return any(p.startswith(".") or p == "__pycache__" for p in file.relative_to(root).parts)
