"""The ``regretgap`` console script: one line on Ctrl-C or SIGTERM at any moment.

It lives outside the ``regretgap`` package so that it runs before the package's heavy
imports (numpy, scipy, numba): the handlers are in place from the first instruction, during
``import regretgap`` and during numba's first compilation as well as in a command. A signal
writes one line to standard error and ends the process at once with 130 (Ctrl-C) or 143
(SIGTERM). Nothing finished is lost: ``reproduce`` commits each run as it ends, and every
file is written atomically (a temporary file, then a rename), so an interrupted write
leaves the old file.
"""

from __future__ import annotations

import os
import signal
import sys

_LINES = {
    signal.SIGINT: (130, b"regretgap: interrupted (finished runs are saved; rerun to resume)\n"),
    signal.SIGTERM: (143, b"regretgap: terminated (finished runs are saved; rerun to resume)\n"),
}


def _stop(signum: int, frame: object) -> None:
    code, line = _LINES[signum]
    try:
        os.write(2, line)
    finally:
        os._exit(code)


def main() -> int:
    """Install the handlers, then import and run :func:`regretgap.cli.main`.

    Before this function runs (the interpreter's own start-up, tens of milliseconds) a
    SIGTERM ends the process silently, as it would any program. ``REGRETGAP_READY_FILE``,
    when set, names a file created once the handlers are in place (for supervisors and
    the tests, which time their signals from it).
    """
    for signum in _LINES:
        signal.signal(signum, _stop)
    ready = os.environ.get("REGRETGAP_READY_FILE")
    if ready:
        with open(ready, "w"):
            pass
    from regretgap.cli import main as cli_main

    return cli_main()


if __name__ == "__main__":
    sys.exit(main())
