"""``regretgap reproduce``: measure the paper's Table 1 and write a report.

Runs the suite (the experiments in :data:`MODULES`), one
row per finished run committed to ``results.sqlite`` as it ends (configuration, seed,
metrics, seconds, library version). Rerunning the same command skips finished runs, so a
killed run resumes and produces the same report. ``report.md`` and the PNG plots are built
from the database alone and written atomically (temporary file, then rename).
``--workers N`` runs the suite over local processes; every run seeds itself from its own
configuration, so results equal the serial run's.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import datetime as dt
import json
import multiprocessing
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import regretgap
from regretgap.experiments import (
    compounding,
    coverage_family,
    data_sweep,
    horizon_sweep,
    paper_checks,
    routing,
)
from regretgap.experiments._suite import RunSpec
from regretgap.experiments.report import write_report

MODULES = {
    paper_checks.NAME: paper_checks,
    horizon_sweep.NAME: horizon_sweep,
    coverage_family.NAME: coverage_family,
    data_sweep.NAME: data_sweep,
    compounding.NAME: compounding,
    routing.NAME: routing,
}

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    key TEXT PRIMARY KEY,
    experiment TEXT NOT NULL,
    config TEXT NOT NULL,
    seed INTEGER NOT NULL,
    metrics TEXT NOT NULL,
    seconds REAL NOT NULL,
    version TEXT NOT NULL,
    finished_at TEXT NOT NULL
)
"""


@dataclass
class Args:
    """Settings of ``regretgap reproduce``."""

    out: Path = Path("regretgap-report")
    """Output folder: results.sqlite, report.md, *.png."""
    quick: bool = False
    """CI form of every experiment (under two minutes)."""
    workers: int = 1
    """Local processes; results equal the serial run's."""
    progress: bool = True
    """Progress bar on standard error."""
    experiments: tuple[str, ...] = tuple(MODULES)
    """Which experiments to run."""


class Outcome(NamedTuple):
    """What a reproduce call did: paths, counts, and the report's text."""

    report: Path
    database: Path
    ran: int
    skipped: int
    text: str


def plan(args: Args) -> list[RunSpec]:
    """Every run of the suite, in report order."""
    specs: list[RunSpec] = []
    for name in args.experiments:
        if name not in MODULES:
            raise regretgap.ValidationError(
                f"unknown experiment {name!r}: expected some of {tuple(MODULES)}"
            )
        mod = MODULES[name]
        specs += mod.runs(mod.Args(quick=args.quick))
    return specs


def execute(experiment: str, config: dict, seed: int) -> tuple[dict, float]:
    """Run one configuration (top level so that worker processes can import it)."""
    t0 = time.perf_counter()
    metrics = MODULES[experiment].execute(config, seed)
    return metrics, time.perf_counter() - t0


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """One compute thread for numba and BLAS while the suite runs, restored afterwards.

    The suite's games are small (at most a few hundred state-action pairs), where threads
    only add synchronisation: on 2 busy cores a run measured 10-20x slower with the
    default thread pools.
    """
    import numba
    from threadpoolctl import threadpool_limits

    before = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        with threadpool_limits(1):
            yield
    finally:
        numba.set_num_threads(before)


def _worker_init() -> None:
    # worker processes: the processes are the parallelism, one thread each for good
    import numba
    from threadpoolctl import threadpool_limits

    numba.set_num_threads(1)
    threadpool_limits(1)


class _Progress:
    def __init__(self, total: int, enabled: bool) -> None:
        self.total, self.done, self.enabled = total, 0, enabled
        self.tty = sys.stderr.isatty()

    def step(self, spec: RunSpec) -> None:
        self.done += 1
        if not self.enabled:
            return
        width = 30
        filled = width * self.done // max(self.total, 1)
        bar = "#" * filled + "-" * (width - filled)
        text = (
            f"[{bar}] {self.done}/{self.total} {spec.experiment} {spec.config.get('learner', '')}"
        )
        if self.tty:
            end = "\n" if self.done == self.total else ""
            sys.stderr.write(f"\r{text:<100}{end}")
        else:
            sys.stderr.write(text + "\n")
        sys.stderr.flush()


def _record(db: sqlite3.Connection, spec: RunSpec, metrics: dict, seconds: float) -> None:
    db.execute(
        "INSERT OR REPLACE INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            spec.key,
            spec.experiment,
            json.dumps(spec.config, sort_keys=True),
            spec.seed,
            json.dumps(metrics, sort_keys=True),
            seconds,
            regretgap.__version__,
            dt.datetime.now(dt.UTC).isoformat(),
        ),
    )
    db.commit()  # each finished run is durable before the next starts


def run_suite(
    todo: list[RunSpec], db: sqlite3.Connection, workers: int, on_done: Callable[[RunSpec], None]
) -> int:
    """Run ``todo`` (the specs not yet in the database); returns how many ran."""
    if workers <= 1:
        with one_thread():
            for spec in todo:
                metrics, seconds = execute(spec.experiment, spec.config, spec.seed)
                _record(db, spec, metrics, seconds)
                on_done(spec)
        return len(todo)
    ctx = multiprocessing.get_context("spawn")  # fork is unsafe with numba's OpenMP layer
    with cf.ProcessPoolExecutor(
        max_workers=workers, mp_context=ctx, initializer=_worker_init
    ) as pool:
        futures = {pool.submit(execute, s.experiment, s.config, s.seed): s for s in todo}
        for fut in cf.as_completed(futures):
            spec = futures[fut]
            metrics, seconds = fut.result()
            _record(db, spec, metrics, seconds)  # only this process writes the database
            on_done(spec)
    return len(todo)


def main(args: Args) -> Outcome:
    """Run (or resume) the suite and write the report; see the module docstring."""
    if args.workers < 1:
        raise regretgap.ValidationError(f"workers must be >= 1, got {args.workers}")
    specs = plan(args)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    db_path = out / "results.sqlite"
    db = sqlite3.connect(db_path)
    try:
        db.execute(SCHEMA)
        db.commit()
        finished = {row[0] for row in db.execute("SELECT key FROM runs")}
        todo = [s for s in specs if s.key not in finished]
        progress = _Progress(len(specs), args.progress)
        progress.done = len(specs) - len(todo)
        ran = run_suite(todo, db, args.workers, progress.step)
        rows = {
            key: json.loads(metrics) for key, metrics in db.execute("SELECT key, metrics FROM runs")
        }
    finally:
        db.close()
    results = [(spec, rows[spec.key]) for spec in specs]
    chosen = {name: MODULES[name] for name in args.experiments}
    text = write_report(out, results, chosen, quick=args.quick)
    return Outcome(out / "report.md", db_path, ran, len(specs) - ran, text)
