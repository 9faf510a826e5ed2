"""``regretgap reproduce``: measure the paper's Table 1 and write a report.

Runs the suite (the experiments in :data:`MODULES`), one
row per finished run committed to ``results.sqlite`` as it ends (configuration, seed,
metrics, seconds, library version). Rerunning the same command skips finished runs, so a
killed run resumes and produces the same report. ``report.md`` and the PNG plots are built
from the database alone and written atomically (temporary file, then rename).
``--workers N`` runs the suite over local processes and ``--ray [ADDRESS]`` over Ray (a
local instance, or a cluster with ``auto`` or an address), both through
:func:`~regretgap.experiments.sweep.run_sweep`; every run seeds itself from its own
configuration, so results equal the serial run's, and only this process (the driver)
writes the database. A ``results.sqlite`` that is not this
suite's database (not SQLite, damaged, other tables) is refused and never written to.
It never replaces a file it did not write: every output it writes is listed with its
SHA-256 in the database's ``outputs`` table (the manifest), and a folder holding a
``report.md`` or ``*.png`` that is not there as written (someone else's, or edited since)
is refused before any work unless ``force``; a rerun replaces its own files.
Progress is a tqdm bar on a terminal, and a plain line every few seconds elsewhere.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import sqlite3
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple, TextIO

from tqdm import tqdm

import regretgap
from regretgap.experiments import (
    beta_sweep,
    compounding,
    coverage_family,
    data_sweep,
    directed,
    fleets,
    fleets_shared,
    horizon_sweep,
    nash_field,
    openspiel_games,
    paper_checks,
    reduction,
    routing,
    tables_fail,
)
from regretgap.experiments._suite import RunSpec
from regretgap.experiments.report import skipped, write_report
from regretgap.experiments.sweep import require_ray, run_sweep

MODULES = {
    paper_checks.NAME: paper_checks,
    horizon_sweep.NAME: horizon_sweep,
    coverage_family.NAME: coverage_family,
    beta_sweep.NAME: beta_sweep,
    data_sweep.NAME: data_sweep,
    compounding.NAME: compounding,
    routing.NAME: routing,
    fleets.NAME: fleets,
    fleets_shared.NAME: fleets_shared,
    openspiel_games.NAME: openspiel_games,
    tables_fail.NAME: tables_fail,
    reduction.NAME: reduction,
    directed.NAME: directed,
    nash_field.NAME: nash_field,
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

#: The manifest: each output file this suite wrote into the folder, as written.
OUTPUTS_SCHEMA = """
CREATE TABLE IF NOT EXISTS outputs (
    name TEXT PRIMARY KEY,
    sha256 TEXT NOT NULL,
    written_at TEXT NOT NULL
)
"""

#: The names of the files a report writes (besides ``results.sqlite``); a file of the
#: folder that matches one and is not in the manifest as written is not replaced without
#: ``force``.
OUTPUT_PATTERNS = ("report.md", "*.png")


@dataclass
class Args:
    """Settings of ``regretgap reproduce``."""

    out: Path = Path("regretgap-report")
    """Output folder: results.sqlite, report.md, *.png."""
    quick: bool = False
    """CI form of every experiment (under two minutes)."""
    workers: int = 1
    """Local processes (with ``ray``: CPUs of a local Ray instance); results equal the
    serial run's."""
    ray: str | None = None
    """Run on Ray: ``"local"`` (a local instance), ``"auto"`` (the cluster this machine
    joined) or a cluster address; needs ``pip install "regretgap[ray]"``."""
    progress: bool = True
    """Progress bar on standard error."""
    experiments: tuple[str, ...] = tuple(MODULES)
    """Which experiments to run."""
    force: bool = False
    """Replace a report.md or PNG in the output folder that reproduce did not write."""


class Outcome(NamedTuple):
    """What a reproduce call did: paths, counts, and the report's text."""

    report: Path
    database: Path
    ran: int
    skipped: int
    text: str
    unavailable: tuple[str, ...] = ()
    """What was not run for a missing extra, one line each (also on standard error and
    at the report's top)."""


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


def run_spec(spec: RunSpec) -> dict:
    """Run one configuration; its metrics (top level so that workers can import it)."""
    return MODULES[spec.experiment].execute(spec.config, spec.seed)


class _Lines:
    """A stream for tqdm outside a terminal: each refresh becomes one plain line.

    tqdm redraws its bar with carriage returns, which a log file or CI console shows as
    one growing line or as a line per redraw; with ``mininterval`` this gives a line every
    few seconds instead.
    """

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str) -> None:
        line = text.replace("\r", "").rstrip()
        if line:
            self.stream.write(line + "\n")

    def flush(self) -> None:
        self.stream.flush()


#: Seconds between progress lines when standard error is not a terminal.
LOG_INTERVAL = 5.0


class _Progress:
    """tqdm's bar on standard error; outside a terminal, a line every LOG_INTERVAL s."""

    def __init__(self, total: int, done: int, enabled: bool) -> None:
        tty = sys.stderr.isatty()
        self.bar = tqdm(
            total=total,
            initial=done,
            desc="reproduce",
            unit="run",
            file=sys.stderr if tty else _Lines(sys.stderr),
            disable=not enabled,
            mininterval=0.1 if tty else LOG_INTERVAL,
            maxinterval=LOG_INTERVAL * 2,
            dynamic_ncols=tty,
            ncols=None if tty else 80,
            ascii=not tty,
            leave=True,
        )

    def step(self, spec: RunSpec) -> None:
        # refresh=False: the postfix must not force a redraw past mininterval
        self.bar.set_postfix_str(f"{spec.experiment} {spec.config.get('learner', '')}", False)
        self.bar.update(1)

    def close(self) -> None:
        self.bar.close()


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
    todo: list[RunSpec],
    db: sqlite3.Connection,
    workers: int,
    on_done: Callable[[RunSpec], None],
    *,
    ray: str | None = None,
) -> int:
    """Run ``todo`` (the specs not yet in the database) and commit each as it finishes;
    returns how many ran. Only this process writes ``db``, whatever the backend."""
    if ray is not None:
        sweep = run_sweep(
            todo,
            run_spec,
            backend="ray",
            workers=workers if workers > 1 else None,
            address=None if ray == "local" else ray,
        )
    elif workers > 1:
        sweep = run_sweep(todo, run_spec, backend="processes", workers=workers)
    else:
        sweep = run_sweep(todo, run_spec)
    ran = 0
    # closing: Ctrl-C or SIGTERM stops the workers now; finished runs are already committed
    with contextlib.closing(sweep):
        for spec, metrics, seconds in sweep:
            _record(db, spec, metrics, seconds)
            on_done(spec)
            ran += 1
    return ran


_COLUMNS = ["key", "experiment", "config", "seed", "metrics", "seconds", "version", "finished_at"]


def _refuse(path: Path, why: str) -> regretgap.ValidationError:
    return regretgap.ValidationError(
        f"{path}: {why}; it is left untouched (move it aside, or choose another --out)"
    )


def open_results(path: Path) -> sqlite3.Connection:
    """Open (or create) the results database, refusing a corrupt or foreign file.

    A file that is not an SQLite database, or whose tables are not this suite's, is never
    written to: overwriting someone's data to resume a report is not worth the risk.

    Raises:
        ValidationError: the file is not a database, is damaged, or holds other tables.
    """
    if path.is_dir():
        raise _refuse(path, "is a folder, expected the results database")
    if path.exists():
        with open(path, "rb") as fh:
            head = fh.read(16)
        if head and head != b"SQLite format 3\x00":  # an empty file is a new database
            raise _refuse(path, "is not an SQLite database")
    db = sqlite3.connect(path)
    try:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
        if tables and "runs" not in tables:
            raise _refuse(path, f"is another program's database (tables {sorted(tables)})")
        if "runs" in tables:
            cols = [row[1] for row in db.execute("PRAGMA table_info(runs)")]
            if cols != _COLUMNS:
                raise _refuse(path, f"has a 'runs' table with other columns {cols}")
            db.execute("SELECT COUNT(*) FROM runs").fetchone()  # reads the pages
        db.execute(SCHEMA)
        db.execute(OUTPUTS_SCHEMA)
        db.commit()
    except sqlite3.DatabaseError as exc:
        db.close()
        raise _refuse(path, f"is a damaged database ({exc})") from exc
    except BaseException:
        db.close()
        raise
    return db


def _outputs(out: Path) -> dict[str, Path]:
    """The folder's files whose names a report writes, by name."""
    return {p.name: p for pattern in OUTPUT_PATTERNS for p in out.glob(pattern) if p.is_file()}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _foreign(out: Path, manifest: dict[str, str]) -> list[str]:
    """Output-named files of ``out`` that are not in ``manifest`` as written."""
    return sorted(n for n, p in _outputs(out).items() if manifest.get(n) != _sha256(p))


def _record_outputs(
    db: sqlite3.Connection, out: Path, before: dict[str, tuple[int, int]], kept: dict[str, str]
) -> None:
    """Update the manifest after a report: the files written now (new, or changed since
    ``before``, their ``(mtime_ns, size)``), and the files of ``kept`` still as written."""
    now = dt.datetime.now(dt.UTC).isoformat()
    rows = []
    for name, path in _outputs(out).items():
        st = path.stat()
        digest = _sha256(path)
        if before.get(name) != (st.st_mtime_ns, st.st_size) or kept.get(name) == digest:
            rows.append((name, digest, now))
    db.execute("DELETE FROM outputs")
    db.executemany("INSERT INTO outputs VALUES (?, ?, ?)", rows)
    db.commit()


def main(args: Args) -> Outcome:
    """Run (or resume) the suite and write the report; see the module docstring."""
    if args.workers < 1:
        raise regretgap.ValidationError(f"workers must be >= 1, got {args.workers}")
    if args.ray is not None:
        if not isinstance(args.ray, str) or not args.ray.strip():
            raise regretgap.ValidationError(
                f"ray must be 'local', 'auto' or a cluster address, got {args.ray!r}"
            )
        if args.ray != "local" and args.workers > 1:
            raise regretgap.ValidationError(
                f"workers={args.workers} sizes a local Ray instance; the cluster at "
                f"{args.ray!r} runs as many runs as it has CPUs"
            )
        require_ray()  # a missing extra stops here, before any work
    specs = plan(args)
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise regretgap.ValidationError(f"--out {out}: is a file, expected a folder")
    if not out.parent.is_dir():
        raise regretgap.ValidationError(
            f"--out {out}: folder {out.parent} does not exist (regretgap creates only the "
            f"report folder itself; create its parent first)"
        )
    out.mkdir(exist_ok=True)
    db_path = out / "results.sqlite"
    # before any work: a report.md or PNG that this suite did not write stops the run
    # (the database is validated first, and created only once the folder is accepted)
    manifest: dict[str, str] = {}
    if db_path.exists():
        with contextlib.closing(open_results(db_path)) as db:
            manifest = dict(db.execute("SELECT name, sha256 FROM outputs").fetchall())
    foreign = _foreign(out, manifest)
    if foreign and not args.force:
        shown = ", ".join(foreign[:5]) + (
            f" and {len(foreign) - 5} more" if len(foreign) > 5 else ""
        )
        them = "it" if len(foreign) == 1 else "them"
        raise regretgap.ValidationError(
            f"--out {out}: holds {shown}, which reproduce did not write (or which changed "
            f"since); it would replace {them}: move {them} aside, choose another --out, or "
            "pass --force"
        )
    chosen = {name: MODULES[name] for name in args.experiments}
    missing = tuple(f"{name}: {why}" for name, why in skipped(chosen))
    for line in missing:  # loud: a missing extra is never a silent gap in the report
        print(f"reproduce: {line}", file=sys.stderr, flush=True)
    db = open_results(db_path)
    try:
        finished = {row[0] for row in db.execute("SELECT key FROM runs")}
        todo = [s for s in specs if s.key not in finished]
        progress = _Progress(len(specs), len(specs) - len(todo), args.progress)
        try:
            ran = run_suite(todo, db, args.workers, progress.step, ray=args.ray)
        finally:
            progress.close()
        rows = {
            key: json.loads(metrics) for key, metrics in db.execute("SELECT key, metrics FROM runs")
        }
        results = [(spec, rows[spec.key]) for spec in specs]
        before = {n: (p.stat().st_mtime_ns, p.stat().st_size) for n, p in _outputs(out).items()}
        kept = {n: d for n, d in manifest.items() if n not in foreign}
        try:
            text = write_report(out, results, chosen, quick=args.quick)
        finally:  # an interrupted report still lists the files it wrote
            _record_outputs(db, out, before, kept)
    finally:
        db.close()
    return Outcome(out / "report.md", db_path, ran, len(specs) - ran, text, missing)


if __name__ == "__main__":
    from regretgap.experiments._cli import cli

    raise SystemExit(cli(Args, main, __doc__))
