"""The ``regretgap`` console script: one line on Ctrl-C or SIGTERM at any moment.

It lives outside the ``regretgap`` package so that it runs before the package's heavy
imports (numpy, scipy, numba): the handlers are in place from the first instruction, during
``import regretgap`` and during numba's first compilation as well as in a command. A signal
writes one line to standard error and ends the process at once with 130 (Ctrl-C) or 143
(SIGTERM). Nothing finished is lost: ``reproduce`` commits each run as it ends, and every
file is written atomically (a temporary file, then a rename), so an interrupted write
leaves the old file. ``reproduce --workers N``'s worker processes are killed first: left
running, each would finish its run and print a traceback when it found the driver gone.
"""

from __future__ import annotations

import os
import signal
import sys

_LINES = {
    signal.SIGINT: (130, b"regretgap: interrupted (finished runs are saved; rerun to resume)\n"),
    signal.SIGTERM: (143, b"regretgap: terminated (finished runs are saved; rerun to resume)\n"),
}


def _kill_children() -> None:
    """Kill this process's ``multiprocessing`` children (``reproduce --workers``): they hold
    no results (only the driver writes the database) and ignore Ctrl-C by design."""
    mp = sys.modules.get("multiprocessing")
    if mp is None:  # never imported: no children
        return
    try:
        children = mp.active_children()
        for child in children:
            child.kill()
        for child in children:
            child.join(timeout=2)
    except Exception:  # interrupted mid-bookkeeping: exiting matters more than tidying
        pass


def _stop(signum: int, frame: object) -> None:
    code, line = _LINES[signum]
    try:
        # a second signal (Ctrl-C twice) would run this handler again inside this one
        signal.pthread_sigmask(signal.SIG_BLOCK, set(_LINES))
        os.write(2, line)
        _kill_children()
    finally:
        os._exit(code)


def install() -> None:
    """Make SIGINT and SIGTERM print one line and end the process (130, 143) from now on;
    ``python -m regretgap.cli`` calls it too."""
    for signum in _LINES:
        signal.signal(signum, _stop)


def main() -> int:
    """Install the handlers, then import and run :func:`regretgap.cli.main`.

    Before this function runs (the interpreter's own start-up, tens of milliseconds) a
    SIGTERM ends the process silently, as it would any program. ``REGRETGAP_READY_FILE``,
    when set, names a file created once the handlers are in place (for supervisors and
    the tests, which time their signals from it).
    """
    install()
    ready = os.environ.get("REGRETGAP_READY_FILE")
    if ready:
        with open(ready, "w"):
            pass
    from regretgap.cli import main as cli_main

    return cli_main()


if __name__ == "__main__":
    sys.exit(main())
