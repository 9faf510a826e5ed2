"""The regretgap console script: demo, file commands, and one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import regretgap as rg
from regretgap import io
from regretgap.cli import main
from regretgap.games import theorem_4_5


def test_no_command_prints_help(capsys):
    assert main([]) == 0
    assert "reproduce" in capsys.readouterr().out


def test_demo_prints_the_theorem_4_5_table(capsys):
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "Theorem 4.5" in out
    lines = [line.split() for line in out.splitlines() if line.strip()[:2].strip().isdigit()]
    assert [int(r[0]) for r in lines] == [2, 5, 10, 20]
    for r in lines:
        horizon, value_gap, regret_gap = int(r[0]), float(r[1]), float(r[2])
        assert value_gap == 0.0 and regret_gap == horizon - 2


def test_demo_json(capsys):
    assert main(["demo", "--horizons", "3", "7", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["rows"]
    got = [(r["H"], r["regret_gap"], r["value_gap"]) for r in rows]
    assert got == [(3, 1.0, 0.0), (7, 5.0, 0.0)]
    assert rows[1]["regret_gap_uniform_at_s1"] == pytest.approx(5 / 3)


@pytest.fixture
def files(tmp_path):
    c = theorem_4_5(6)
    io.save_game(tmp_path / "game.npz", c.game)
    io.save_policy(tmp_path / "expert.npz", c.expert)
    io.save_policy(tmp_path / "learner.npz", c.learner)
    return tmp_path


def _json(capsys, argv):
    assert main([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_file_commands(files, capsys):
    p = files
    ev = _json(
        capsys,
        [
            "evaluate",
            str(p / "game.npz"),
            str(p / "learner.npz"),
            "--expert",
            str(p / "expert.npz"),
        ],
    )
    assert ev["regret"] == 4.0 and ev["regret_gap"] == 4.0 and ev["value_gap"] == 0.0
    assert ev["worst_agent"] == 0
    assert ev["worst_deviation"] == [
        {"h": 0, "s": 0, "recommended": 0, "played": 1},
        {"h": 1, "s": 1, "recommended": 0, "played": 1},
    ]
    ce = _json(capsys, ["solve-ce", str(p / "game.npz"), "-o", str(p / "ce.npz")])
    assert ce["regret"] <= 1e-7 and ce["values"] == [4.0, 4.0]
    _json(
        capsys,
        [
            "sample",
            str(p / "game.npz"),
            str(p / "expert.npz"),
            "-n",
            "200",
            "-o",
            str(p / "demos.npz"),
        ],
    )
    assert len(io.load_demonstrations(p / "demos.npz")) == 200
    for algo in ("jbc", "jirl"):
        _json(
            capsys,
            [
                "learn",
                algo,
                str(p / "game.npz"),
                "--demos",
                str(p / "demos.npz"),
                "-o",
                str(p / f"{algo}.npz"),
            ],
        )
    out = _json(
        capsys,
        [
            "learn",
            "blades",
            str(p / "game.npz"),
            "--expert",
            str(p / "expert.npz"),
            "-o",
            str(p / "blades.npz"),
        ],
    )
    assert out["queries"] > 0
    ev = _json(
        capsys,
        ["evaluate", str(p / "game.npz"), str(p / "blades.npz"), "--expert", str(p / "expert.npz")],
    )
    assert ev["regret_gap"] == pytest.approx(0.0, abs=1e-12)
    ev = _json(
        capsys,
        ["evaluate", str(p / "game.npz"), str(p / "jbc.npz"), "--expert", str(p / "expert.npz")],
    )
    assert ev["regret_gap"] == pytest.approx(4 / 3)
    sigma = io.load_policy(p / "jbc.npz")
    assert np.allclose(sigma[1, 1], 1 / 9)


def _run(*args):
    return subprocess.run(
        [sys.executable, "-m", "regretgap.cli", *map(str, args)],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        check=False,
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["demo", "--horizons", "1"], "horizon must be >= 2"),
        (["nonsense"], "invalid choice"),
        (["evaluate", "{game}", "{missing}"], "no such file"),
        (["evaluate", "{truncated}", "{learner}"], "truncated or corrupt"),
        (["evaluate", "{game}", "{game}"], "holds a 'game', expected a 'policy'"),
        (["learn", "malice", "{game}", "--demos", "{demos}", "-o", "{out}"], "coverage fails"),
        (["learn", "blades", "{game}", "-o", "{out}"], "needs --expert"),
        (["reproduce", "--workers", "0"], "positive integer"),
        (["evaluate", "{game}", "{wrong_policy}"], "invalid policy for this game"),
    ],
)
def test_bad_files_and_arguments_exit_2_with_one_line(files, args, message):
    p = files
    (p / "truncated.npz").write_bytes((p / "game.npz").read_bytes()[:200])
    io.save_policy(p / "wrong.npz", np.ones((2, 9)) / 9)
    demos = np.zeros((5, 6), dtype=np.int64)  # obedient a1a1 from s_0: s_1 never covered
    io.save_demonstrations(p / "demos.npz", rg.Demonstrations(demos, demos))
    names = {
        "game": p / "game.npz",
        "missing": p / "missing.npz",
        "learner": p / "learner.npz",
        "truncated": p / "truncated.npz",
        "demos": p / "demos.npz",
        "out": p / "o.npz",
        "wrong_policy": p / "wrong.npz",
    }
    proc = _run(*[a.format(**names) for a in args])
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert lines[-1].startswith(("regretgap", "usage")) and message in proc.stderr
    assert not (p / "o.npz").exists()
