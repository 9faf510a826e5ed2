"""The regretgap console script (main job: the Theorem 4.5 demonstration)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from regretgap.cli import main


def test_default_job_prints_the_theorem_4_5_table(capsys):
    assert main([]) == 0
    out = capsys.readouterr().out
    assert "Theorem 4.5" in out
    lines = [line.split() for line in out.splitlines() if line.strip()[:2].strip().isdigit()]
    assert [int(r[0]) for r in lines] == [2, 5, 10, 20]
    for r in lines:
        horizon, value_gap, regret_gap = int(r[0]), float(r[1]), float(r[2])
        assert value_gap == 0.0 and regret_gap == horizon - 2


def test_json_output(capsys):
    assert main(["demo", "--horizons", "3", "7", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["rows"]
    got = [(r["H"], r["regret_gap"], r["value_gap"]) for r in rows]
    assert got == [(3, 1.0, 0.0), (7, 5.0, 0.0)]
    assert rows[1]["regret_gap_uniform_at_s1"] == pytest.approx(5 / 3)


@pytest.mark.parametrize(
    "args", [["demo", "--horizons", "1"], ["demo", "--horizons", "x"], ["nonsense"]]
)
def test_bad_arguments_exit_non_zero_with_one_line(args):
    proc = subprocess.run(
        [sys.executable, "-m", "regretgap.cli", *args],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("regretgap")
