"""Every python example in README.md and the documentation (docs/**/*.md) runs as written,
and prints what its comments say.

A ``print(...)`` line whose comment starts with a value (``# 8.0 = H - 2``, ``# [1]: ...``)
must print that value: numbers (one or several) to within 1e-9 (the README shows them rounded to the
digits written), anything else as the same text."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").rglob("*.md"))]
#: ``(page, code)`` of every python block, README first
SOURCES = [
    (page.relative_to(ROOT).as_posix(), code)
    for page in PAGES
    for code in re.findall(r"```python\n(.*?)```", page.read_text(), flags=re.DOTALL)
]
BLOCKS = [code for _, code in SOURCES]
# the value a comment states, right after the "#": a bracketed list, or numbers
NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
STATED = re.compile(rf"#\s*(\[[^\]]*\]|{NUMBER}(?: {NUMBER})*)(?=[\s:=,]|$)")


def stated_outputs(block):
    """``{line number in the block (1-based): the value its comment states}`` for prints."""
    out = {}
    for k, line in enumerate(block.splitlines(), start=1):
        code, _, comment = line.partition("#")
        match = STATED.match("#" + comment) if comment else None
        if "print(" in code and match:
            out[k] = match.group(1)
    return out


def run_block(index):
    """Execute block ``index``; return ``{line number: printed text}``."""
    printed = {}

    def record(*args, **kwargs):
        printed[sys._getframe(1).f_lineno] = " ".join(str(a) for a in args)

    source = f"{SOURCES[index][0]} block {index}"
    exec(compile(BLOCKS[index], source, "exec"), {"print": record})
    return printed


def same(printed, stated):
    if stated.startswith("["):
        return " ".join(printed.split()) == " ".join(stated.split())
    try:
        got, want = [float(x) for x in printed.split()], [float(x) for x in stated.split()]
    except ValueError:
        return False
    return len(got) == len(want) and got == pytest.approx(want, abs=1e-9)


def test_readme_has_examples():
    assert sum(page == "README.md" for page, _ in SOURCES) >= 1
    assert len({page for page, _ in SOURCES}) >= 5  # the tutorials and guide pages run too
    assert len(BLOCKS) >= 3
    # the examples state outputs, and the checker finds them
    assert sum(len(stated_outputs(b)) for b in BLOCKS) >= 4


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_example_runs_and_prints_what_it_states(index, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # examples that save files write them here
    printed = run_block(index)
    for line, stated in stated_outputs(BLOCKS[index]).items():
        assert line in printed, f"block {index} line {line} printed nothing"
        assert same(printed[line], stated), (
            f"{SOURCES[index][0]} block {index} line {line} prints {printed[line]!r}, its "
            f"comment says {stated}"
        )


def test_stated_output_check_can_fail():
    block = "print(1 + 1)  # 3.0: wrong on purpose\nprint([1])  # [2]\nprint(0, 1)  # 0 1\n"
    assert stated_outputs(block) == {1: "3.0", 2: "[2]", 3: "0 1"}
    assert not same("2", "3.0") and not same("[1]", "[2]") and same("[1]", "[1]")
    assert same("0.0 8.0", "0 8") and not same("0.0 8.0", "0") and not same("x", "0")
