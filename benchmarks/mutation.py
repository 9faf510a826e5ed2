"""Mutation score of the test suite on the evaluator, the deviations and the learners.

Not run in CI (minutes per module). Two drivers, each working in a scratch copy of the
repository (``src``, ``tests``, ``pyproject.toml``, ``README.md``), so the checkout is never
touched:

- ``mutmut`` (mutmut 3 from PyPI, ``pip install mutmut``) for ``evaluation``, ``deviations``
  and ``learners``. Its configuration is appended to the scratch copy's ``pyproject.toml``
  (``[tool.mutmut]``); mutmut copies the tree into ``mutants/``, forks one pytest per
  mutant and runs only the tests that reach the mutated function.
- ``ast``, a small self-written driver, for ``_kernels``. Every function there is numba
  ``@njit``: mutmut 3 does not mutate decorated functions (and its trampolines, plain
  Python calls keyed on an environment variable, could not run inside compiled code).
  The driver swaps operators (``+``/``-``, ``*``/``/``, ``<``/``<=``, ``>``/``>=``,
  ``==``/``!=``, ``+=``/``-=``, ``and``/``or``), ``max``/``min``, constants ``0``/``1``,
  and drops statements that store into arrays, accumulate or call (dropping a local's
  definition only makes numba's type inference fail); each mutant recompiles the
  kernels (seconds), so ``--sample`` draws a seeded subset.

Both run the tests with ``HYPOTHESIS_PROFILE=mutation`` (fewer examples, no shrinking:
one failing example kills a mutant), ``NUMBA_NUM_THREADS=1`` and numba's fork-safe
``workqueue`` threading layer.

Usage::

    python benchmarks/mutation.py deviations
    python benchmarks/mutation.py evaluation --jobs 2
    python benchmarks/mutation.py learners --sample 60 --seed 0
    python benchmarks/mutation.py sampled --sample 60 --seed 0 --jobs 1
    python benchmarks/mutation.py sampled_neural --sample 40 --seed 1 --jobs 1  # needs torch
    python benchmarks/mutation.py _kernels --sample 24 --seed 0 --jobs 2
    python benchmarks/mutation.py deviations --tests tests/test_evaluation.py  # other tests

Each run prints the score (killed / mutants tested; timeouts count as killed and are
listed), and every surviving mutant as ``file:line`` with its diff; ``--json PATH`` also
writes them.
"""

from __future__ import annotations

import argparse
import ast
import copy
import difflib
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parents[1]

EVALUATION_TESTS = [
    "tests/test_evaluation.py",
    "tests/test_evaluation_references.py",
    "tests/test_games.py",
    "tests/test_diagnostics.py",
]
#: module -> (files to mutate, the test files that should kill their mutants)
TARGETS = {
    "evaluation": (["src/regretgap/evaluation.py"], EVALUATION_TESTS),
    "deviations": (
        ["src/regretgap/deviations.py"],
        [
            "tests/test_evaluation.py",
            "tests/test_evaluation_references.py",
            "tests/test_policies.py",
        ],
    ),
    "learners": (
        ["src/regretgap/learners/*"],
        ["tests/test_learners.py", "tests/test_learner_references.py"],
    ),
    # the sampled stack without the adversary (large: its own run) and without
    # neural.py, whose target below needs torch (forked mutmut children run it fine on CPU;
    # its device= arguments only matter on a GPU, so their mutants survive there)
    "sampled": (
        [
            "src/regretgap/sampled/policies.py",
            "src/regretgap/sampled/data.py",
            "src/regretgap/sampled/blades.py",
            "src/regretgap/sampled/malice.py",
            "src/regretgap/sampled/evaluation.py",
            "src/regretgap/sampled/jbc.py",
        ],
        [
            "tests/test_sampled_policies.py",
            "tests/test_sampled_data.py",
            "tests/test_sampled_blades.py",
            "tests/test_sampled_malice.py",
            "tests/test_sampled_evaluation.py",
            "tests/test_sampled_learners.py",
            "tests/test_adversary.py",
            "tests/test_sampled_mutations.py",
        ],
    ),
    "sampled_neural": (["src/regretgap/sampled/neural.py"], ["tests/test_sampled_neural.py"]),
    "_kernels": (
        ["src/regretgap/_kernels.py"],
        ["tests/test_evaluation_references.py", "tests/test_evaluation.py", "tests/test_data.py"],
    ),
}
AST_MODULES = {"_kernels"}
#: module -> tests to deselect under mutmut, as they fail before any mutation: the first
#: reads the mutated module's imports (mutmut's copy imports its trampoline), the second
#: reads README.md and .ci/run, which mutmut's mutants/ tree does not hold
DESELECT = {
    "sampled": [
        "tests/test_sampled_malice.py::test_the_learners_import_nothing_that_holds_rewards"
    ],
    "sampled_neural": [
        "tests/test_sampled_neural.py::test_the_test_command_pins_the_cpu_wheel_and_the_extra_is_a_range"
    ],
}

# mutmut 3's exit codes (mutmut.stats.status_by_exit_code) plus SIGTERM: mutmut ends a
# mutant that outlives its timeout with SIGTERM (-15) and files it as "suspicious"
STATUS = {1: "killed", 3: "killed", 0: "survived", 5: "no tests", 33: "no tests", 34: "skipped"}
STATUS.update(dict.fromkeys((-15, 24, -24, 36, 152, 255), "timeout"))
STATUS.update({-9: "segfault", -11: "segfault", 37: "caught by type check"})


class Mutant(NamedTuple):
    name: str
    status: str
    path: str  # relative to the repository root
    line: int  # 0 when unknown
    diff: str


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    # numba's default OpenMP layer SIGTERMs a forked child once the parent has used it
    # ("fork() called from a process already using GNU OpenMP"), and mutmut forks one child
    # per mutant after running the tests in the parent; the workqueue layer survives fork
    env.update(
        HYPOTHESIS_PROFILE="mutation",
        NUMBA_NUM_THREADS="1",
        NUMBA_THREADING_LAYER="workqueue",
        PYTHONHASHSEED="0",
    )
    return env


def _scratch(parent: Path, name: str) -> Path:
    """A copy of the parts of the repository the tests need."""
    dest = parent / name
    ignore = shutil.ignore_patterns("__pycache__", ".hypothesis", "*.nbi", "*.nbc", "mutants")
    dest.mkdir(parents=True)
    for item in ("src", "tests"):
        shutil.copytree(ROOT / item, dest / item, ignore=ignore)
    for item in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / item, dest / item)
    return dest


def _toml_list(items: list[str]) -> str:
    return "[" + ", ".join(json.dumps(x) for x in items) + "]"


# ---------------------------------------------------------------------------------------
# mutmut


def _function_line(path: Path, mutant: str) -> int:
    """First line of the function a mutmut mutant name refers to (``x_f__mutmut_3`` or
    ``xǁClassǁmethod__mutmut_3``)."""
    stem = mutant.rsplit(".", 1)[-1].split("__mutmut_")[0]
    tree = ast.parse(path.read_text())
    if "ǁ" in stem:
        # a method: look inside its class (another class or protocol may have one of the
        # same name, and the first one found would give the wrong line)
        _, cls, want = stem.split("ǁ")
        scopes = [n for n in ast.walk(tree) if isinstance(n, ast.ClassDef) and n.name == cls]
    else:
        want, scopes = stem.removeprefix("x_"), [tree]
    for scope in scopes:
        for node in ast.walk(scope):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == want:
                return node.lineno + len(node.decorator_list)
    return 0


def _changed_line(diff: str) -> int:
    """Offset (0-based) of the first removed line of a function-relative unified diff."""
    offset = None
    for line in diff.splitlines():
        hunk = re.match(r"@@ -(\d+)", line)
        if hunk:
            offset = int(hunk.group(1)) - 1
            continue
        if offset is None or line.startswith(("---", "+++")):
            continue
        if line.startswith("-"):
            return offset
        if not line.startswith("+"):
            offset += 1
    return 0


GENERATE = """
import os
import mutmut.__main__ as m
m.set_mutant_under_test("mutant_generation")
os.makedirs("mutants", exist_ok=True)
m.copy_src_dir()
m.copy_also_copy_files()
m.setup_source_paths()
m.store_lines_covered_by_tests()
m.create_mutants(2)
"""


def run_mutmut(
    module: str, tests: list[str], jobs: int, work: Path, sample: int | None, seed: int
) -> list[Mutant]:
    paths, _ = TARGETS[module]
    scratch = _scratch(work, f"mutmut-{module}")
    with open(scratch / "pyproject.toml", "a") as f:
        f.write(
            "\n[tool.mutmut]\n"
            'source_paths = ["src"]\n'
            f"only_mutate = {_toml_list(paths)}\n"
            f"pytest_add_cli_args_test_selection = {_toml_list(tests)}\n"
            "pytest_add_cli_args = "
            + _toml_list(
                ["-p", "no:cacheprovider", "-x", "-q"]
                + [a for t in DESELECT.get(module, []) for a in ("--deselect", t)]
            )
            + "\n"
        )
    names: list[str] = []
    if sample is not None:
        # generate the mutants without running them (what `mutmut run` does first), read
        # their names from the mutated sources, and run a seeded sample of them
        subprocess.run([sys.executable, "-c", GENERATE], cwd=scratch, env=_env(), check=True)
        for path in sorted((scratch / "mutants" / "src").rglob("*.py")):
            module = ".".join(path.relative_to(scratch / "mutants" / "src").with_suffix("").parts)
            found = re.findall(r"^\s*def (\S+__mutmut_\d+)\(", path.read_text(), re.MULTILINE)
            names += [f"{module}.{name}" for name in found]
        print(f"{len(names)} mutants; testing {min(sample, len(names))} (seed {seed})")
        names = sorted(random.Random(seed).sample(names, min(sample, len(names))))
    cmd = [sys.executable, "-m", "mutmut", "run", "--max-children", str(jobs), *names]
    proc = subprocess.run(cmd, cwd=scratch, env=_env(), capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-4000:])
        raise SystemExit(f"mutmut failed with exit code {proc.returncode}")
    out = []
    for meta in sorted((scratch / "mutants" / "src").rglob("*.py.meta")):
        rel = meta.relative_to(scratch / "mutants").with_suffix("")
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        for name, code in codes.items():
            if names and name not in names:
                continue
            status = STATUS.get(code, f"exit {code}")
            diff, line = "", 0
            if status != "killed":
                shown = subprocess.run(
                    [sys.executable, "-m", "mutmut", "show", name],
                    cwd=scratch,
                    env=_env(),
                    capture_output=True,
                    text=True,
                ).stdout
                diff = "\n".join(shown.splitlines()[1:])
                start = _function_line(scratch / rel, name)
                line = start + _changed_line(diff) if start else 0
            out.append(Mutant(name, status, str(rel), line, diff))
    return out


# ---------------------------------------------------------------------------------------
# the AST driver


SWAPS = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Div,
    ast.Div: ast.Mult,
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.And: ast.Or,
    ast.Or: ast.And,
}


def _sites(tree: ast.Module) -> list[tuple[int, str]]:
    """``(node index in ast.walk order, description)`` of every mutation inside functions."""
    sites = []
    nodes = list(ast.walk(tree))
    inside = set()
    for fn in nodes:
        if isinstance(fn, ast.FunctionDef):
            body = fn.body[1:] if ast.get_docstring(fn) else fn.body
            for stmt in body:
                inside.update(id(n) for n in ast.walk(stmt))
    for k, node in enumerate(nodes):
        if id(node) not in inside:
            continue
        if isinstance(node, ast.BinOp | ast.AugAssign | ast.BoolOp) and type(node.op) in SWAPS:
            sites.append((k, f"{type(node.op).__name__} -> {SWAPS[type(node.op)].__name__}"))
        elif isinstance(node, ast.Compare) and type(node.ops[0]) in SWAPS:
            sites.append(
                (k, f"{type(node.ops[0]).__name__} -> {SWAPS[type(node.ops[0])].__name__}")
            )
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id in ("max", "min"):
                sites.append((k, f"{node.func.id} -> {'min' if node.func.id == 'max' else 'max'}"))
        elif (
            isinstance(node, ast.Constant)
            and type(node.value) in (int, float)
            and node.value in (0, 1)
        ):
            sites.append((k, f"constant {node.value!r} -> {type(node.value)(1 - node.value)!r}"))
        # dropped statements: updates and stores into arrays, and calls (dropping the
        # definition of a local only makes numba's type inference fail: trivially killed)
        stores = isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Subscript) for t in node.targets
        )
        call = isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)
        if stores or call or isinstance(node, ast.AugAssign):
            sites.append((k, "statement dropped"))
    return sites


def _mutate(tree: ast.Module, index: int, what: str) -> ast.Module:
    tree = copy.deepcopy(tree)
    node = list(ast.walk(tree))[index]
    if what == "statement dropped":
        for parent in ast.walk(tree):
            for field in ("body", "orelse", "finalbody"):
                block = getattr(parent, field, None)
                if isinstance(block, list) and any(stmt is node for stmt in block):
                    block[[stmt is node for stmt in block].index(True)] = ast.Pass()
    elif isinstance(node, ast.Compare):
        node.ops[0] = SWAPS[type(node.ops[0])]()
    elif isinstance(node, ast.BinOp | ast.AugAssign | ast.BoolOp):
        node.op = SWAPS[type(node.op)]()
    elif isinstance(node, ast.Call):
        node.func.id = "min" if node.func.id == "max" else "max"
    else:
        node.value = type(node.value)(1 - node.value)
    return ast.fix_missing_locations(tree)


def _pytest(scratch: Path, tests: list[str], timeout: float, cache: Path) -> tuple[int, float]:
    env = _env()
    env.update(PYTHONPATH=str(scratch / "src"), NUMBA_CACHE_DIR=str(cache))
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests]
    start = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=scratch, env=env, capture_output=True, timeout=timeout)
        code = proc.returncode
    except subprocess.TimeoutExpired:
        code = -15
    return code, time.perf_counter() - start


def run_ast(
    module: str, tests: list[str], jobs: int, work: Path, sample: int | None, seed: int
) -> list[Mutant]:
    (rel,) = TARGETS[module][0]
    source = (ROOT / rel).read_text()
    tree = ast.parse(source)
    sites = _sites(tree)
    chosen = sites if sample is None else random.Random(seed).sample(sites, min(sample, len(sites)))
    print(f"{len(sites)} mutation sites in {rel}; testing {len(chosen)} (seed {seed})")
    scratches = [_scratch(work, f"ast-{module}-{w}") for w in range(jobs)]
    code, base = _pytest(scratches[0], tests, 1800, work / "cache-baseline")
    if code != 0:
        raise SystemExit(f"the tests fail before any mutation (exit {code})")
    timeout = max(120.0, 4 * base)
    print(f"baseline {base:.0f}s; timeout per mutant {timeout:.0f}s")
    original = ast.unparse(tree).splitlines()

    def one(job: tuple[int, tuple[int, str]]) -> Mutant:
        k, (index, what) = job
        scratch = scratches[k % jobs]
        mutated = ast.unparse(_mutate(tree, index, what))
        (scratch / rel).write_text(mutated)
        code, _ = _pytest(scratch, tests, timeout, work / f"cache-{k}")
        (scratch / rel).write_text(source)
        node = list(ast.walk(tree))[index]
        diff = "\n".join(
            difflib.unified_diff(original, mutated.splitlines(), lineterm="", n=1)
        ).split("\n", 2)[-1]
        status = STATUS.get(code, "killed" if code > 0 else f"exit {code}")
        return Mutant(f"{module}:{node.lineno}:{what}", status, rel, node.lineno, diff)

    # one mutant at a time per scratch copy: job k runs in copy k % jobs
    out: list[Mutant] = []
    with ThreadPoolExecutor(jobs) as pool:
        for batch in range(0, len(chosen), jobs):
            jobs_now = list(enumerate(chosen))[batch : batch + jobs]
            out += list(pool.map(one, jobs_now))
    return out


# ---------------------------------------------------------------------------------------


def report(module: str, mutants: list[Mutant], seconds: float) -> dict:
    counts: dict[str, int] = {}
    for m in mutants:
        counts[m.status] = counts.get(m.status, 0) + 1
    tested = sum(v for k, v in counts.items() if k not in ("no tests", "skipped"))
    killed = counts.get("killed", 0) + counts.get("timeout", 0) + counts.get("segfault", 0)
    score = killed / tested if tested else float("nan")
    print(f"\n{module}: {len(mutants)} mutants, {counts}; {seconds / 60:.1f} min")
    print(f"mutation score {killed}/{tested} = {score:.1%} (timeouts count as killed)")
    by_file: dict[str, dict[str, int]] = {}
    for m in mutants:
        row = by_file.setdefault(m.path, {})
        row[m.status] = row.get(m.status, 0) + 1
    if len(by_file) > 1:
        for path, row in sorted(by_file.items()):
            print(f"  {path}: {sum(row.values())} mutants, {row}")
    for m in sorted(mutants, key=lambda m: (m.path, m.line)):
        if m.status != "killed":
            print(f"\n[{m.status}] {m.path}:{m.line}  {m.name}\n{m.diff}")
    return {
        "module": module,
        "counts": counts,
        "by_file": by_file,
        "score": score,
        "seconds": seconds,
        "not_killed": [m._asdict() for m in mutants if m.status != "killed"],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("module", choices=sorted(TARGETS))
    parser.add_argument("--tests", nargs="+", help="test files (default: the module's own)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--sample", type=int, help="test a seeded sample of this many mutants")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workdir", type=Path, help="scratch directory (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory")
    parser.add_argument("--json", type=Path, help="write the result here")
    args = parser.parse_args(argv)
    tests = args.tests or TARGETS[args.module][1]
    work = Path(tempfile.mkdtemp(prefix="mutation-", dir=args.workdir))
    start = time.perf_counter()
    try:
        if args.module in AST_MODULES:
            mutants = run_ast(args.module, tests, args.jobs, work, args.sample, args.seed)
        else:
            mutants = run_mutmut(args.module, tests, args.jobs, work, args.sample, args.seed)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    result = report(args.module, mutants, time.perf_counter() - start)
    result.update(tests=tests, sample=args.sample, seed=args.seed)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
