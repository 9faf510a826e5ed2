"""The library's modules form layers: no module imports one that imports it back, at module
level, inside a function or under ``TYPE_CHECKING``. A package's ``__init__`` counts as a
module (``from regretgap import x`` inside the library imports ``regretgap/__init__``)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).parents[1] / "src"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in (SRC / "regretgap").rglob("*.py")}


def imports_of(path: Path, name: str, known: set[str]) -> set[str]:
    """The library modules ``path`` imports: ``import a.b``, ``from a import b`` (``a.b`` when
    that is a module, else ``a``) and relative imports, anywhere in the file."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*up, base] if base else up)
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base
                       for a in node.names]  # fmt: skip
        else:
            continue
        for t in targets:
            # the deepest known module that t names (import a.b.c imports a.b.c)
            while t and t not in known:
                t = t.rpartition(".")[0]
            if t and t != name:
                out.add(t)
    return out


def graph() -> dict[str, set[str]]:
    mods = modules()
    known = set(mods)
    return {name: imports_of(path, name, known) for name, path in mods.items()}


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(g.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(g):
        if v not in index:
            visit(v)
    return out


def test_no_import_loops():
    g = graph()
    # the package __init__ files re-export their submodules: a submodule importing its own
    # package's __init__ (or the top-level package) closes a loop
    found = cycles(g)
    assert not found, "import loops: " + "; ".join(" <-> ".join(c) for c in found)


def test_the_loop_detector_finds_a_loop():
    g = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(g) == [["a", "b", "c"]]
    real = graph()
    some = next(m for m in real if m.startswith("regretgap.") and real[m])
    target = sorted(real[some])[0]
    real[target] = real[target] | {some}  # a back edge
    assert any(some in c and target in c for c in cycles(real))


@pytest.mark.parametrize("module", ["regretgap.learners.cloning", "regretgap.sampled.querying"])
def test_the_graph_sees_function_level_imports(module):
    assert graph()[module]  # sanity: the parser finds the learners' imports
