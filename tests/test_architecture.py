"""The import structure holds (ARCHITECTURE.md): no import cycles among the project's modules,
imports written inside functions counted like any other, and hardly any of those at all. The
arrows between packages are import-linter's contracts in pyproject.toml (run by .ci/run)."""
from __future__ import annotations

import ast
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("hub", "api", "connectors", "evotor", "moysklad", "onec")
MAX_IMPORTS_IN_FUNCTIONS = 30


def _strongly_connected(graph: grimp.ImportGraph) -> list[set[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []
    counter = 0
    for root in sorted(graph.modules):
        if root in index:
            continue
        # iterative Tarjan: (node, iterator over its successors)
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, successors = work[-1]
            advanced = False
            for nxt in successors:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph.find_modules_directly_imported_by(nxt)))))
                    advanced = True
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(component)
    return found


def test_no_import_cycles():
    graph = grimp.build_graph(*PACKAGES, include_external_packages=False)
    cycles = _strongly_connected(graph)
    assert cycles == [], f"import cycles: {[sorted(c) for c in cycles]}"


def test_hardly_any_imports_inside_functions():
    inside = []
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for fn in ast.walk(tree):
                if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    for node in ast.walk(fn):
                        if isinstance(node, ast.ImportFrom) and node.level == 0 and \
                                (node.module or "").split(".")[0] in PACKAGES or isinstance(node, ast.Import) and any(
                                a.name.split(".")[0] in PACKAGES for a in node.names):
                            inside.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert len(inside) < MAX_IMPORTS_IN_FUNCTIONS, inside
