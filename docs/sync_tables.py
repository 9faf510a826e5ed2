"""Copy Table 1 (claims and checks of a bound) from a ``regretgap reproduce`` report into
``docs/experiments.md``, between the ``<!-- table-1 -->`` markers.

Usage: ``python docs/sync_tables.py regretgap-report/report.md`` after a default run.
``tests/test_reproduce.py`` checks that the page's rows and verdict words match what the
code writes.
"""

from __future__ import annotations

import sys
from pathlib import Path

PAGE = Path(__file__).parent / "experiments.md"
START, END = "<!-- table-1 -->", "<!-- /table-1 -->"


def tables(report: str) -> str:
    """The report's text from its summary line to the end of the checks table."""
    begin = report.index("Table 1")
    begin = report.rindex("\n", 0, begin) + 1
    checks = report.index("### Checks of a bound")
    end = report.find("\n\n", report.index("\n| ", checks))
    return report[begin:end].strip() + "\n"


def main(report_path: str) -> None:
    report = Path(report_path).read_text()
    page = PAGE.read_text()
    head, rest = page.split(START, 1)
    _, tail = rest.split(END, 1)
    PAGE.write_text(f"{head}{START}\n\n{tables(report)}\n{END}{tail}")


if __name__ == "__main__":
    main(sys.argv[1])
