"""No import loops inside the package: the graph of which ``regretgap`` module may run which
other one's body, read statically from every module, has no strongly connected component
larger than one module.

Every import counts, wherever it stands: at module level, inside a function (a lazy import
only postpones the loop), under ``if TYPE_CHECKING:`` (a loop a type checker sees is still a
loop in the design) and ``importlib.import_module("regretgap...")`` with a literal name.

An edge ``M -> T`` means that running ``M``'s imports may execute ``T``'s body, or read a
name from it. The module an import names is always an edge: ``import a.b.c`` (with or without
``as``) and ``from a.b.c import x`` name ``a.b.c``; ``from a.b import x`` names the module
``a.b.x`` when there is one (that is what the statement loads) and otherwise ``a.b`` (``x`` is
read from ``a/b/__init__.py``'s namespace), as ``from a.b import *`` does. The packages above
the named module are edges too, except those above ``M`` itself: they are already running when
``M`` runs (their ``__init__`` imported ``M``, or ran before it), else every submodule would
form a loop with ``regretgap``.

So a submodule loads a sibling with ``from regretgap import _kernels`` or ``from
regretgap.game import MarkovGame`` without touching ``regretgap/__init__.py``, but ``import
regretgap`` or ``from regretgap import ValidationError`` (a re-export) is an import of
``regretgap/__init__.py``, a loop as soon as that ``__init__`` reaches the module: import a
name from the module that defines it.
"""

from __future__ import annotations

import ast
import itertools
import shutil
import sys
from collections.abc import Iterable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
PACKAGE = "regretgap"


def _module_name(path: Path, src: Path) -> str:
    parts = list(path.relative_to(src).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules(src: Path) -> dict[str, Path]:
    """``{dotted name: file}`` of every module of the package under ``src``."""
    return {_module_name(p, src): p for p in sorted((src / PACKAGE).rglob("*.py"))}


def _ancestors(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:k]) for k in range(1, len(parts))]


def _running(name: str) -> set[str]:
    """The modules whose bodies are already executing (or done) when ``name``'s body runs."""
    return {name, *_ancestors(name)}


def _absolute(node: ast.ImportFrom, name: str, path: Path) -> str:
    if not node.level:
        return node.module or ""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    base = package.split(".")
    if node.level > 1:
        base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _imports(name: str, path: Path, modules: dict[str, Path]) -> Iterable[tuple[str, int]]:
    """``(module, line)`` for each package module ``name``'s body may execute."""
    running = _running(name)

    def loads(target: str) -> list[str]:
        # the module named, and the packages above it that are not yet running
        above = [m for m in _ancestors(target) if m in modules and m not in running]
        return [*above, target] if target in modules else above

    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                for target in loads(alias.name):
                    yield target, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node, name, path)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                named = sub if alias.name != "*" and sub in modules else base
                for target in loads(named):
                    yield target, node.lineno
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute | ast.Name)
            and (getattr(node.func, "attr", None) or getattr(node.func, "id", None))
            in ("import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            for target in loads(node.args[0].value):
                yield target, node.lineno


def import_graph(src: Path = SRC) -> dict[str, dict[str, int]]:
    """``graph[module][imported] = line`` (first line that imports it) for the package."""
    modules = _modules(src)
    graph: dict[str, dict[str, int]] = {}
    for name, path in modules.items():
        edges: dict[str, int] = {}
        for target, line in _imports(name, path, modules):
            if target != name:
                edges.setdefault(target, line)
        graph[name] = edges
    return graph


def strongly_connected(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """Tarjan's strongly connected components (iterative), each sorted, larger than one."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def _cycle(graph: dict[str, dict[str, int]], component: list[str], src: Path) -> str:
    """One loop through ``component``, as ``a (a.py:3) -> b (b.py:7) -> a``."""
    members = set(component)
    start = component[0]
    # breadth-first from start back to start inside the component
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier and start not in previous:
        nxt = []
        for node in frontier:
            for child in sorted(graph[node]):
                if child in members and child not in previous:
                    previous[child] = node
                    nxt.append(child)
        frontier = nxt
    path = [start]
    node = previous[start]
    while node != start:
        path.append(node)
        node = previous[node]
    path.append(start)
    path.reverse()
    modules = _modules(src)
    steps = [
        f"{a} ({modules[a].relative_to(src).as_posix()}:{graph[a][b]} imports {b})"
        for a, b in itertools.pairwise(path)
    ]
    return " -> ".join(steps)


def test_no_import_loops():
    graph = import_graph()
    loops = [_cycle(graph, c, SRC) for c in strongly_connected(graph)]
    assert not loops, "import loops:\n" + "\n".join(loops)


def test_graph_sees_every_kind_of_import():
    """The edges the rules promise, on the package itself (the graph is not empty by
    accident)."""
    graph = import_graph()
    assert "regretgap.games.routing" in graph
    assert "regretgap.evaluation" in graph["regretgap"]
    # a package's own submodule never points back at the package through its parent
    assert "regretgap" not in graph["regretgap.evaluation"]
    # cli reads the package's re-exports (``import regretgap as rg``)
    assert "regretgap" in graph["regretgap.cli"]


def _write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / PACKAGE / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


LOOPS = {
    "top level": {
        "__init__.py": "",
        "a.py": "import regretgap.b\n",
        "b.py": "import regretgap.a\n",
    },
    "lazy": {
        "__init__.py": "",
        "a.py": "from regretgap.b import f\n",
        "b.py": "def f():\n    from regretgap.a import g\n    return g\n",
    },
    "TYPE_CHECKING": {
        "__init__.py": "",
        "a.py": (
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from regretgap.b import B\n"
        ),
        "b.py": "from regretgap import a\n",
    },
    "relative": {"__init__.py": "", "a.py": "from . import b\n", "b.py": "from .a import x\n"},
    "package re-export": {
        "__init__.py": "from regretgap.a import f\n",
        "a.py": "def f():\n    from regretgap import ValidationError\n",
    },
    "subpackage init": {
        "__init__.py": "",
        "a.py": "import regretgap.sub.c\n",
        "sub/__init__.py": "from regretgap.sub.d import x\n",
        "sub/c.py": "",
        "sub/d.py": "from regretgap.a import y\n",
    },
    "importlib": {
        "__init__.py": "",
        "a.py": "import importlib\nB = importlib.import_module('regretgap.b')\n",
        "b.py": "import regretgap.a\n",
    },
}


@pytest.mark.parametrize("kind", sorted(LOOPS))
def test_each_kind_of_loop_is_found(tmp_path, kind):
    src = _write(tmp_path, LOOPS[kind])
    graph = import_graph(src)
    loops = strongly_connected(graph)
    assert len(loops) == 1, (kind, graph)
    message = _cycle(graph, loops[0], src)
    assert all(f"{m} (" in message for m in loops[0]), message


def test_a_submodule_importing_a_sibling_through_its_package_is_no_loop(tmp_path):
    src = _write(
        tmp_path,
        {
            "__init__.py": "from regretgap.a import f\nfrom regretgap.b import g\n",
            "a.py": "from regretgap import b\nfrom regretgap.b import g\nf = g\n",
            "b.py": "import regretgap.c\ng = 1\n",
            "c.py": "",
            "sub/__init__.py": "from regretgap.sub.d import x\n",
            "sub/d.py": "from regretgap.sub import e\nfrom . import e as e2\nx = 1\n",
            "sub/e.py": "",
        },
    )
    assert strongly_connected(import_graph(src)) == []


def test_a_loop_added_to_the_package_fails_naming_it(tmp_path):
    """Copy the package, make ``regretgap.game`` import ``regretgap.evaluation`` (which
    imports it) inside a function: the check names both modules."""
    copy = tmp_path / "src"
    shutil.copytree(SRC / PACKAGE, copy / PACKAGE)
    game = copy / PACKAGE / "game.py"
    game.write_text(
        game.read_text() + "\n\ndef _loop():\n    from regretgap.evaluation import values\n"
    )
    graph = import_graph(copy)
    loops = [_cycle(graph, c, copy) for c in strongly_connected(graph)]
    assert any("regretgap.game" in loop and "regretgap.evaluation" in loop for loop in loops)


if __name__ == "__main__":  # print the current loops
    g = import_graph()
    print("\n".join(_cycle(g, c, SRC) for c in strongly_connected(g)) or "no loops")
    sys.exit(0)
