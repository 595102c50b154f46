"""Imports point downward (DESIGN.md, Layout), no module imports itself round a cycle, and
production code never imports the simulation package.

Each top-level part of `interlock` has a rank; a module may import its own part and parts
of a lower rank only. Imports inside functions count too (a lazy import is still a
dependency); those under `if TYPE_CHECKING:` do not (they never run).
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
RANK = {
    "__init__": 0,  # the package root: its version only
    "domain": 0,
    "errors": 0.5,  # faults carry their code from domain/reject.py
    "risk": 1,
    "flags": 1,
    "journal": 1,
    "fixengine": 1,
    "observe": 2,
    "control": 2,
    "venue": 2,
    "gateway": 3,
    "instance": 4,
    "api": 5,
    "render_text": 5,
    "replay": 6,
    "sim": 6,
    "demo": 7,
    "cli": 8,
}
MAY_IMPORT_SIM = {"sim", "demo", "cli"}
"""Simulation serves the demo and the CLI's demo fleet, never the product's order path."""


def _module(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _part(module: str) -> str:
    parts = module.split(".")
    part = parts[1] if len(parts) > 1 else "__init__"
    return "cli" if part.startswith("cli") else part


def _imports(tree: ast.Module, me: str) -> set[str]:
    """Every `interlock` module `tree` imports, except under `if TYPE_CHECKING:`."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module.split(".")[0] == "interlock":
                for alias in node.names:  # `from pkg import mod` depends on pkg.mod
                    sub = f"{node.module}.{alias.name}"
                    found.add(sub if (SRC / sub.replace(".", "/")).with_suffix(".py").exists()
                              else node.module)  # fmt: skip
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "interlock")
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    found.discard(me)
    return found


def _graph() -> dict[str, set[str]]:
    return {
        _module(p): _imports(ast.parse(p.read_text()), _module(p))
        for p in sorted((SRC / "interlock").rglob("*.py"))
    }


def _rank(part: str) -> int:
    return RANK[part]


def test_every_part_of_the_package_has_a_rank() -> None:
    assert {_part(m) for m in _graph()} <= set(RANK)


def test_imports_point_downward() -> None:
    upward = [
        f"{mod} imports {dep}"
        for mod, deps in _graph().items()
        for dep in deps
        if _part(dep) != _part(mod) and _rank(_part(dep)) >= _rank(_part(mod))
    ]
    assert upward == []


def test_production_code_never_imports_simulation() -> None:
    leaks = [
        f"{mod} imports {dep}"
        for mod, deps in _graph().items()
        for dep in deps
        if _part(dep) == "sim" and _part(mod) not in MAY_IMPORT_SIM
    ]
    assert leaks == []


def test_no_import_cycles() -> None:
    """Tarjan's strongly connected components over module-level imports."""
    graph = _graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def strongconnect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in graph:
                continue  # a name imported from a package's __init__ resolves to it
            if w not in index:
                strongconnect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in graph:
        if v not in index:
            strongconnect(v)
    assert cycles == []
