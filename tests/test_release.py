"""Release hygiene: the version has one source, and a wheel built from this tree installs
in a fresh environment with its data, its type marker and its console script."""

from __future__ import annotations

import re
import subprocess
import sys
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


@pytest.mark.slow
def test_wheel_builds_and_installs_in_a_fresh_environment(tmp_path):
    """``pip wheel`` without build isolation (setuptools is installed; nothing is fetched),
    then a venv that sees the installed dependencies but not this checkout."""
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(dist), str(ROOT)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    (wheel,) = dist.glob("regretgap-*.whl")
    assert f"regretgap-{regretgap.__version__}-" in wheel.name
    names = zipfile.ZipFile(wheel).namelist()
    assert "regretgap/py.typed" in names
    assert "regretgap/networks/SiouxFalls/SiouxFalls_net.tntp" in names
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
