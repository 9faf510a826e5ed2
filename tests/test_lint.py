"""The code base is ruff clean and its public API type-checks with mypy (the gates run with
the tests, so CI enforces them)."""

from __future__ import annotations

import ast
import importlib.util
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_clean():
    if importlib.util.find_spec("ruff") is None:
        pytest.skip("ruff is in the test extra")
    proc = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "src", "tests", "benchmarks"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _mypy_files() -> list[str]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]["files"]


def test_mypy_checks_every_module_the_package_exports_from():
    """Each ``regretgap.X`` that ``regretgap/__init__.py`` imports from (public names only)
    is in ``[tool.mypy] files``, so a new public module cannot escape the check."""
    tree = ast.parse((ROOT / "src/regretgap/__init__.py").read_text())
    modules = {
        node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("regretgap.")
    }
    checked = [ROOT / f for f in _mypy_files()]
    missing = []
    for module in sorted(modules):
        base = ROOT / "src" / Path(*module.split("."))
        path = base / "__init__.py" if base.is_dir() else base.with_suffix(".py")
        if not any(path == c or c in path.parents for c in checked):
            missing.append(module)
    assert "regretgap.utilities" in modules  # the lazy exports are seen too
    assert not missing, f"add to [tool.mypy] files in pyproject.toml: {missing}"


def test_public_api_type_checks():
    """mypy on the public modules ([tool.mypy] in pyproject.toml): about 4 s."""
    if importlib.util.find_spec("mypy") is None:
        pytest.skip("mypy is in the test extra")
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-incremental"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
