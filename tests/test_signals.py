"""Ctrl-C and SIGTERM are one line at any moment of the console script: during
``import regretgap``, during numba's first compilation (a fresh cache) and during a
``reproduce`` run; exit 130 and 143. Each moment is tried twice (no retries)."""

from __future__ import annotations

import os
import signal
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
