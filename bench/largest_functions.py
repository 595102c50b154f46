"""Largest functions: the N biggest functions and methods of `src/interlock/`, by lines and
by statements, read with `ast` (nothing is imported, so any commit's tree can be measured).

Issue 10's closing note gives the largest function before and after the restructuring.
Lines run from the `def` line to the last line of the body (decorators and the docstring
included); statements count every `ast.stmt` inside the body, nested functions' too. A
qualname follows Python's (`Class.method`, `outer.<locals>.inner`).

`--on-path bench/results/order_trace.json` ranks only the functions one FIX order crosses
(the `function_list` that `bench/order_trace.py` wrote).

    python bench/largest_functions.py [--top 10] [--root src/interlock] [--on-path JSON]
                                      [--json PATH]
"""

from __future__ import annotations

import argparse
import ast
import json
import statistics
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

DEFAULT_ROOT = Path(__file__).resolve().parents[1] / "src" / "interlock"
DEFAULT_JSON = Path(__file__).resolve().parent / "results" / "largest_functions.json"


@dataclass(frozen=True)
class Function:
    file: str
    qualname: str
    line: int
    lines: int
    statements: int


def _statements(node: ast.AST) -> int:
    return sum(isinstance(n, ast.stmt) for n in ast.walk(node)) - 1  # not the def itself


def functions_in(source: str, file: str) -> list[Function]:
    """Every function and method defined in `source`, nested ones included."""
    out: list[Function] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                qual = prefix + child.name
                end = child.end_lineno or child.lineno
                out.append(Function(file, qual, child.lineno, end - child.lineno + 1,
                                    _statements(child)))  # fmt: skip
                visit(child, qual + ".<locals>.")
            elif isinstance(child, ast.ClassDef):
                visit(child, prefix + child.name + ".")
            else:
                visit(child, prefix)

    visit(ast.parse(source, file), "")
    return out


def scan(root: Path) -> list[Function]:
    out: list[Function] = []
    for path in sorted(root.rglob("*.py")):
        out += functions_in(path.read_text(), path.relative_to(root).as_posix())
    return out


def report(funcs: list[Function], top: int) -> dict[str, Any]:
    by_lines = sorted(funcs, key=lambda f: (-f.lines, f.file, f.line))[:top]
    by_statements = sorted(funcs, key=lambda f: (-f.statements, f.file, f.line))[:top]
    return {
        "functions": len(funcs),
        "files": len({f.file for f in funcs}),
        "median_lines": statistics.median(f.lines for f in funcs) if funcs else 0,
        "largest": asdict(by_lines[0]) if by_lines else None,
        "by_lines": [asdict(f) for f in by_lines],
        "by_statements": [asdict(f) for f in by_statements],
    }


def _table(title: str, rows: list[dict[str, Any]]) -> Table:
    table = Table(title=title)
    for col in ("#", "function", "file:line", "lines", "statements"):
        table.add_column(col, justify="right" if col in ("#", "lines", "statements") else "left")
    for i, f in enumerate(rows, 1):
        table.add_row(str(i), f["qualname"], f"{f['file']}:{f['line']}", str(f["lines"]),
                      str(f["statements"]))  # fmt: skip
    return table


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--top", type=int, default=10)
    ap.add_argument("--root", type=Path, default=DEFAULT_ROOT, help="the package directory")
    ap.add_argument("--on-path", type=Path, help="order_trace.py's JSON: only its functions")
    ap.add_argument("--json", type=Path, default=DEFAULT_JSON)
    args = ap.parse_args(argv)
    if not args.root.is_dir():
        ap.error(f"--root {args.root} is not a directory")
    funcs = scan(args.root)
    if args.on_path is not None:
        crossed = set(json.loads(args.on_path.read_text())["function_list"])
        funcs = [f for f in funcs if f"{f.file}:{f.qualname}" in crossed]
    result = report(funcs, args.top)
    result["root"] = str(args.root)
    result["on_path"] = str(args.on_path) if args.on_path else None
    console = Console()
    console.print(_table(f"Largest functions by lines ({result['functions']:,} functions, "
                         f"{result['files']} files)", result["by_lines"]))  # fmt: skip
    console.print(_table("Largest functions by statements", result["by_statements"]))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
