"""Ctrl-C and SIGTERM are one line at any moment of the console script: during
``import regretgap``, during numba's first compilation (a fresh cache) and during a
``reproduce`` run; exit 130 and 143. Each moment is tried twice (no retries)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

LINES = {
    signal.SIGINT: (130, "regretgap: interrupted (finished runs are saved; rerun to resume)"),
    signal.SIGTERM: (143, "regretgap: terminated (finished runs are saved; rerun to resume)"),
}


def _start(tmp_path: Path, fresh_cache: bool, ready: Path) -> subprocess.Popen:
    """``regretgap demo`` (imports the package, compiles the evaluation kernel in a fresh
    numba cache: about 6 s here, so every delay below lands before it finishes)."""
    env = {**os.environ, "REGRETGAP_READY_FILE": str(ready)}
    if fresh_cache:
        env["NUMBA_CACHE_DIR"] = str(tmp_path / f"numba-{time.monotonic_ns()}")
    return subprocess.Popen(
        [sys.executable, "-m", "_regretgap_cli", "demo", "--horizons", "3", "4", "5"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )  # fmt: skip


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
@pytest.mark.parametrize("delay", [0.05, 0.3, 1.5, 3.5])
def test_a_signal_at_any_moment_is_one_line(tmp_path, signum, delay):
    """From 0.05 s after the handlers are in place (the package still importing) to 3.5 s
    (compiling the kernel in a fresh cache, or running): the process ends with one line and
    the signal's code, or it finished first (exit 0, nothing on stderr)."""
    for _ in range(2):
        ready = tmp_path / f"ready-{time.monotonic_ns()}"
        proc = _start(tmp_path, fresh_cache=True, ready=ready)
        deadline = time.monotonic() + 60
        while not ready.exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.002)  # the interpreter's own start-up: no handler can run yet
        time.sleep(delay)
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=120)
        if proc.returncode == 0:  # finished before the signal: nothing to say
            assert err.strip() == "", err
            continue
        code, line = LINES[signum]
        assert proc.returncode == code, err
        assert err.strip().splitlines() == [line], err


def _children(pid: int) -> set[int]:
    """The processes whose parent is ``pid`` (from /proc)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone since the listing
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_reproduce_workers_too(tmp_path, signum):
    """``reproduce --workers 2``: the workers die with the driver. Left running (they ignore
    Ctrl-C), each finished its run, found the driver gone and printed a traceback on the
    same standard error, after the one line."""
    out = tmp_path / "out"
    db = out / "results.sqlite"
    proc = subprocess.Popen(
        [sys.executable, "-m", "_regretgap_cli", "reproduce", "--quick", "--workers", "2",
         "--out", str(out)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline:
        if db.exists() and len(_children(proc.pid)) >= 3:  # two workers, resource tracker
            try:
                with sqlite3.connect(db) as con:
                    if con.execute("SELECT COUNT(*) FROM runs").fetchone()[0] >= 1:
                        break
            except sqlite3.OperationalError:  # not created yet, or being written
                pass
        time.sleep(0.02)
    workers = _children(proc.pid)
    assert proc.poll() is None and len(workers) >= 3, "the signal must land mid-suite"
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=60)  # waits for every holder of stderr, workers too
    code, line = LINES[signum]
    assert proc.returncode == code, err
    lines = [s for s in err.splitlines() if not s.startswith("reproduce")]  # progress lines
    assert lines == [line], err
    # the workers are killed before the driver exits; multiprocessing's resource tracker
    # (also a child) ends by itself once its pipe closes
    deadline = time.monotonic() + 10
    while (alive := [pid for pid in workers if _alive(pid)]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive
