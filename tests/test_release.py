"""Release hygiene: the version has one source, and an sdist and a wheel built from this
tree install in a fresh environment with their data, type marker and console script."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tarfile
import tomllib
import venv
import zipfile
from pathlib import Path

import pytest

import regretgap

ROOT = Path(__file__).resolve().parents[1]


def test_the_version_has_one_source():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "regretgap.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+", regretgap.__version__)
    assert f"## {regretgap.__version__}" in (ROOT / "CHANGELOG.md").read_text()


_NOT_SOURCES = shutil.ignore_patterns(
    ".git", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", ".hypothesis", ".venv",
    "venv", "regretgap-report",
)  # fmt: skip


def _backend(where: Path, hook: str, out: Path) -> Path:
    """Run setuptools' PEP 517 ``hook`` in ``where`` (what ``python -m build
    --no-isolation`` does: setuptools is installed, nothing is fetched)."""
    name = subprocess.run(
        [sys.executable, "-c",
         f"from setuptools import build_meta; print(build_meta.{hook}({str(out)!r}))"],
        cwd=where, check=True, capture_output=True, text=True,
    ).stdout.split()[-1]  # fmt: skip
    return out / name


@pytest.mark.slow
def test_sdist_and_wheel_build_and_install_in_a_fresh_environment(tmp_path):
    """The sdist from a copy of the sources (the checkout gets no build/ or egg-info), the
    wheel from the unpacked sdist (so the sdist is complete), then a venv that sees the
    installed dependencies but not this checkout: import, data files, type marker and the
    console script."""
    tree = tmp_path / "tree"
    shutil.copytree(ROOT, tree, ignore=_NOT_SOURCES)
    dist = tmp_path / "dist"
    sdist = _backend(tree, "build_sdist", dist)
    assert sdist.name == f"regretgap-{regretgap.__version__}.tar.gz"
    top = f"regretgap-{regretgap.__version__}"
    with tarfile.open(sdist) as tar:
        names = set(tar.getnames())
        tar.extractall(tmp_path / "unpacked", filter="data")
    for name in ("PKG-INFO", "pyproject.toml", "README.md", "LICENSE", "CHANGELOG.md",
                 "src/_regretgap_cli.py", "src/regretgap/py.typed",
                 "src/regretgap/networks/SiouxFalls/SiouxFalls_net.tntp"):  # fmt: skip
        assert f"{top}/{name}" in names, name
    wheel = _backend(tmp_path / "unpacked" / top, "build_wheel", dist)
    assert wheel.name.startswith(f"regretgap-{regretgap.__version__}-")
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in ("_regretgap_cli.py", "regretgap/py.typed",
                 "regretgap/networks/SiouxFalls/SiouxFalls_net.tntp"):  # fmt: skip
        assert name in names, name
    env = tmp_path / "env"
    venv.create(env, system_site_packages=True, with_pip=False)
    python = env / "bin" / "python"
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q",
         "--force-reinstall", str(wheel)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    probe = (
        "import regretgap, pathlib, sys; "
        "print(regretgap.__version__, pathlib.Path(regretgap.__file__).parent)"
    )
    out = subprocess.run(
        [str(python), "-c", probe], check=True, capture_output=True, text=True, cwd=tmp_path
    ).stdout.split()
    assert out[0] == regretgap.__version__ and str(env) in out[1]  # the installed copy
    cli = subprocess.run(
        [str(env / "bin" / "regretgap"), "--help"], capture_output=True, text=True, check=False
    )
    assert cli.returncode == 0 and "reproduce" in cli.stdout
