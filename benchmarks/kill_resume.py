"""Kill-anywhere resume: SIGKILL ``regretgap reproduce --quick`` at random
moments, resume it, and check the final report and database equal an uninterrupted run's.

The reference is an uninterrupted run made by this same code, so the check holds whatever
experiments the suite runs. Each trial starts the command, kills it (SIGKILL: no handler
runs) after a random delay drawn uniformly from 0 to 1.2 times the reference's wall time
(so some kills land during start-up, some mid-run, some while the report is written,
some after the end), repeats that ``--kills`` times, then resumes to completion. Checked
after every kill: the database opens, and ``report.md`` is either absent or complete.
Checked at the end: ``report.md`` equals the reference byte for byte, and the database
holds the same runs (key, experiment, configuration, seed, metrics) as the reference.

    python3 benchmarks/kill_resume.py                 # 20 trials, one kill each
    python3 benchmarks/kill_resume.py --trials 5 --kills 3 --seed 1
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COMMAND = [sys.executable, "-m", "regretgap.cli", "reproduce", "--quick", "--json"]
COLUMNS = "key, experiment, config, seed, metrics"


def rows(db: Path) -> list[tuple]:
    """The database's runs without the timing columns, sorted by key."""
    with sqlite3.connect(db) as con:
        return sorted(con.execute(f"SELECT {COLUMNS} FROM runs"))


def start(out: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [*COMMAND, "--out", str(out)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def finish(out: Path) -> None:
    proc = subprocess.run(
        [*COMMAND, "--out", str(out)], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise SystemExit(f"resume failed ({proc.returncode}): {proc.stderr.strip()}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20, help="independent kill-resume trials")
    parser.add_argument("--kills", type=int, default=1, help="SIGKILLs per trial before resuming")
    parser.add_argument("--seed", type=int, default=0, help="seed of the kill moments")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        ref = Path(tmp) / "reference"
        t0 = time.perf_counter()
        finish(ref)
        wall = time.perf_counter() - t0
        ref_report, ref_rows = (ref / "report.md").read_bytes(), rows(ref / "results.sqlite")
        print(f"reference: {len(ref_rows)} runs in {wall:.1f} s", flush=True)
        failures, starts = 0, 1
        phases = dict.fromkeys(("before any run", "mid-suite", "writing the report", "after"), 0)
        for trial in range(args.trials):
            out = Path(tmp) / f"trial{trial}"
            kills = []
            for _ in range(args.kills):
                delay = rng.uniform(0.0, 1.2 * wall)
                proc = start(out)
                starts += 1
                time.sleep(delay)
                finished = proc.poll() is not None
                if not finished:
                    os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
                db = out / "results.sqlite"
                done = len(rows(db)) if db.exists() and db.stat().st_size else 0
                if (out / "report.md").exists():
                    assert (out / "report.md").read_bytes() == ref_report, "partial report"
                if finished:
                    kind = "after"
                elif done == 0:
                    kind = "before any run"
                else:
                    kind = "mid-suite" if done < len(ref_rows) else "writing the report"
                phases[kind] += 1
                kills.append(f"{delay:.1f}s:{done}/{len(ref_rows)}")
            finish(out)
            starts += 1
            same = (out / "report.md").read_bytes() == ref_report and rows(
                out / "results.sqlite"
            ) == ref_rows
            stale = sorted(p.name for p in out.iterdir() if p.name.endswith(".tmp"))
            failures += not same
            print(
                f"trial {trial:>2}: killed at {', '.join(kills)}; resumed: "
                f"{'identical' if same else 'DIFFERENT'}"
                + (f" (stale temporary files: {stale})" if stale else ""),
                flush=True,
            )
        print(
            f"\n{args.trials} trials, {args.trials * args.kills} SIGKILLs ({phases}), "
            f"{starts} starts of reproduce --quick: {args.trials - failures} identical to the "
            f"uninterrupted run, {failures} different"
        )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
