"""The regretgap console script: demo, file commands, and one-line errors."""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import regretgap as rg
from regretgap import games, io
from regretgap.cli import main
from regretgap.games import theorem_4_5
from regretgap.games.routing import braess


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
    # the single-agent analogues: DAgger never asks at s_1, ALICE (tabular) equals J-BC there
    gaps = {}
    for algo, source in (("dagger", "--expert"), ("alice", "--demos")):
        data = p / ("expert.npz" if algo == "dagger" else "demos.npz")
        cmd = ["learn", algo, str(p / "game.npz"), source, str(data), "-o", str(p / f"{algo}.npz")]
        if algo == "dagger":
            cmd += ["--demos", str(p / "demos.npz"), "--answers", "sampled"]
        _json(capsys, cmd)
        ev = _json(
            capsys,
            [
                "evaluate",
                str(p / "game.npz"),
                str(p / f"{algo}.npz"),
                "--expert",
                str(p / "expert.npz"),
            ],
        )
        gaps[algo] = ev["regret_gap"]
    assert gaps == {"dagger": pytest.approx(4 / 3), "alice": pytest.approx(4 / 3)}
    # DAgger with noisy roll-ins reaches s_1, one deviation away, and learns it there
    cmd = ["learn", "dagger", str(p / "game.npz"), "--expert", str(p / "expert.npz")]
    cmd += ["--demos", str(p / "demos.npz"), "-o", str(p / "noisy.npz")]
    _json(capsys, [*cmd, "--deviation-rate", "0.3", "--rounds", "2"])
    ev = _json(
        capsys,
        ["evaluate", str(p / "game.npz"), str(p / "noisy.npz"), "--expert", str(p / "expert.npz")],
    )
    assert ev["regret_gap"] == pytest.approx(0.0, abs=1e-12)


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
        (["learn", "dagger", "{game}", "-o", "{out}"], "dagger needs --expert"),
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


# ---------------------------------------------------------------------------------------
# every bad input is one line and exit 2, and nothing is overwritten or created


@pytest.fixture
def more(files):
    p = files
    np.save(p / "plain.npy", np.ones((2, 9)) / 9)
    (p / "text.npz").write_text("this is not an archive\n")
    (p / "folder.npz").mkdir()
    demos = np.zeros((5, 6), dtype=np.int64)
    io.save_demonstrations(p / "demos.npz", rg.Demonstrations(demos, demos))
    io.save_demonstrations(p / "far.npz", rg.Demonstrations(demos + 40, demos))
    (p / "D").mkdir()
    (p / "D" / "results.sqlite").write_text("not a database")
    return p


BAD = [
    (["sample", "{game}", "{expert}", "-n", "3", "-o", "{out}", "--seed", "-1"], "seed must be"),
    (["solve-ce", "{game}", "-o", "{out}", "--seed", "-1"], "seed must be >= 0"),
    (["learn", "jirl", "{game}", "--demos", "{demos}", "-o", "{out}", "--seed", "-1"], "seed"),
    (["learn", "jbc", "{game}", "--demos", "{demos}", "-o", "{out}", "--seed", "-1"], "seed"),
    (["evaluate", "{game}", "{plain}"], "plain .npy array"),
    (["evaluate", "{game}", "{text}"], "zip signature"),
    (["evaluate", "{game}", "{folder}"], "is a folder"),
    (["reproduce", "--out", "{D}"], "not an SQLite database"),
    (["reproduce", "--out", "{game}"], "is a file, expected a folder"),
    (["reproduce", "--out", "{nodir}/report"], "does not exist"),
    (["learn", "malice", "{game}", "--demos", "{demos}", "-o", "{out}"], "--clip-weights"),
    (["learn", "jbc", "{game}", "--demos", "{far}", "-o", "{out}"], "found 40..40"),
    (["sample", "{game}", "{expert}", "-n", "3", "-o", "{nodir}/x.npz"], "does not exist"),
    (["learn", "jbc", "{game}", "--demos", "{demos}", "-o", "{game}"], "also an input"),
    (["solve-ce", "{game}", "-o", "{game}", "--force"], "also an input"),
    (["sample", "{game}", "{expert}", "-n", "3", "-o", "{expert}"], "also an input"),
    (["sample", "{game}", "{expert}", "-n", "3", "-o", "{learner}"], "already exists"),
    (["learn", "jbc", "{game}", "--demos", "{demos}", "--expert", "{expert}", "-o", "{out}"],
     "--expert is for blades"),
    (["make-game", "theorem_4_5", "-o", "{game}"], "already exists"),
    (["make-game", "theorem_5_4", "--beta", "0.9", "-o", "{out}"], "0 < beta <= 1/2"),
    (["make-game", "random", "-o", "{out}", "--expert-output", "{out2}"], "no built-in expert"),
    (["make-game", "matrix", "-o", "{out}"], "needs --payoffs"),
    (["learn", "dagger", "{game}", "--expert", "{expert}", "-o", "{out}", "--deviation-rate",
      "1.5"], "probability in [0, 1]"),
    (["learn", "blades", "{game}", "--expert", "{expert}", "-o", "{out}", "--deviation-rate",
      "0.3"], "does not take it"),
]  # fmt: skip


@pytest.mark.parametrize(("args", "message"), BAD)
def test_bad_inputs_exit_2_with_one_line_and_touch_nothing(more, args, message):
    p = more
    names = {
        "game": p / "game.npz",
        "expert": p / "expert.npz",
        "learner": p / "learner.npz",
        "demos": p / "demos.npz",
        "far": p / "far.npz",
        "plain": p / "plain.npy",
        "text": p / "text.npz",
        "folder": p / "folder.npz",
        "out": p / "o.npz",
        "out2": p / "o2.npz",
        "D": p / "D",
        "nodir": p / "no" / "such",
    }
    before = {f: f.read_bytes() for f in p.rglob("*") if f.is_file()}
    proc = _run(*[a.format(**names) for a in args])
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and "allow_pickle" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("regretgap") and message in lines[0], lines
    after = {f: f.read_bytes() for f in p.rglob("*") if f.is_file()}
    assert after == before  # nothing overwritten, nothing created
    assert not (p / "no").exists()


def test_solver_error_is_one_line(files, capsys, monkeypatch):
    def fail(*args, **kwargs):
        raise rg.SolverError("HiGHS status 4 at (h=0, s=0)")

    monkeypatch.setattr(rg, "markov_ce", fail)
    assert main(["solve-ce", str(files / "game.npz"), "-o", str(files / "ce.npz")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["regretgap: error: HiGHS status 4 at (h=0, s=0)"]
    assert not (files / "ce.npz").exists()


def test_unexpected_errors_are_one_line_unless_debug(files, capsys, monkeypatch):
    def bug(*args, **kwargs):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(rg, "regret", bug)
    argv = ["evaluate", str(files / "game.npz"), str(files / "learner.npz")]
    assert main(argv) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "ZeroDivisionError: a bug" in err[0]
    assert "run with --debug for the traceback" in err[0]
    with pytest.raises(ZeroDivisionError):
        main(["--debug", *argv])


def test_json_and_debug_before_the_command(capsys):
    assert main(["--json", "demo", "--horizons", "3"]) == 0
    assert json.loads(capsys.readouterr().out)["rows"][0]["regret_gap"] == 1.0
    assert main(["demo", "--horizons", "3", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["rows"][0]["H"] == 3


def test_help_shows_defaults_and_every_argument_has_help():
    from regretgap.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, p in sub.choices.items():
        for action in p._actions:
            assert action.help, f"{name} {action.option_strings or action.dest} has no help"
    text = " ".join(sub.choices["solve-ce"].format_help().split())
    assert "(default: welfare)" in text and "(default: 0)" in text
    text = " ".join(sub.choices["reproduce"].format_help().split())
    assert "(default: regretgap-report)" in text and "--quick the CI form" in text


def test_evaluate_says_how_many_deviation_entries_are_not_listed(tmp_path, capsys):
    game = games.random_game(30, (3, 3), 4, rng=np.random.default_rng(0))
    io.save_game(tmp_path / "g.npz", game)
    io.save_policy(tmp_path / "p.npz", rg.uniform_policy(game))
    argv = ["evaluate", str(tmp_path / "g.npz"), str(tmp_path / "p.npz")]
    ev = _json(capsys, argv)
    total = ev["worst_deviation_entries"]
    assert total > 8 and len(ev["worst_deviation"]) == 8
    assert main(argv) == 0
    assert f"and {total - 8} more" in capsys.readouterr().out
    assert len(_json(capsys, [*argv, "--show", "1000"])["worst_deviation"]) == total


def test_force_replaces_an_output_atomically(files, capsys):
    p = files
    argv = ["sample", str(p / "game.npz"), str(p / "expert.npz"), "-n", "5", "-o"]
    _json(capsys, [*argv, str(p / "d.npz")])
    _json(capsys, [*argv, str(p / "d.npz"), "-n", "7", "--force"])
    assert len(io.load_demonstrations(p / "d.npz")) == 7
    assert sorted(f.name for f in p.iterdir() if f.name.startswith(".")) == []


@pytest.mark.parametrize(
    ("name", "extra", "build"),
    [
        ("theorem_4_5", ["--horizon", "6"], lambda: theorem_4_5(6).game),
        (
            "theorem_5_4",
            ["--horizon", "8", "--beta", "0.25", "--epsilon", "0.01", "--u", "4"],
            lambda: games.theorem_5_4(8, 0.25, 0.01, 4).game,
        ),
        (
            "theorem_5_8",
            ["--horizon", "8", "--beta", "0.2", "--epsilon", "0.05", "--u", "3"],
            lambda: games.theorem_5_8(8, 0.2, 0.05, 3).game,
        ),
        ("theorem_4_4", [], lambda: games.theorem_4_4().game),
        ("lemma_f1_prime", [], lambda: games.lemma_f1(True).game),
        ("lemma_f2", [], lambda: games.lemma_f2().game),
        ("chicken", ["--horizon", "3"], lambda: games.chicken()[0].with_horizon(3)),
        ("coordination", [], lambda: games.coordination()[0]),
        ("shapley", [], lambda: games.shapley()[0]),
        (
            "matrix",
            ["--payoffs", "[[[0, 7], [2, 6]], [[0, 2], [7, 6]]]"],
            lambda: games.matrix_game([[[0, 7], [2, 6]], [[0, 2], [7, 6]]]),
        ),
        (
            "random",
            ["--states", "6", "--actions", "2", "3", "--seed", "4", "--horizon", "3"],
            lambda: games.random_game(
                6, (2, 3), 3, rng=np.random.default_rng(4), branching=3, layered=False
            ),
        ),
        ("braess", [], lambda: braess(horizon=3).game),
        ("grid_world", ["--horizon", "3"], lambda: games.grid_world(horizon=3).game),
        ("two_path", ["--mix", "0.25"], lambda: games.two_path_game(0.25).game),
    ],
)
def test_make_game_writes_every_built_in_game(tmp_path, capsys, name, extra, build):
    out = tmp_path / f"{name}.npz"
    argv = ["make-game", name, "-o", str(out), *extra]
    has_expert = name not in ("random", "braess", "matrix")
    if has_expert:
        argv += ["--expert-output", str(tmp_path / "expert.npz")]
    assert _json(capsys, argv)["output"] == str(out)
    game, want = io.load_game(out), build()
    assert (game.transitions != want.transitions).nnz == 0
    np.testing.assert_array_equal(game.rewards, want.rewards)
    np.testing.assert_array_equal(game.initial, want.initial)
    assert (game.horizon, game.num_actions) == (want.horizon, want.num_actions)
    if has_expert:
        io.load_policy(tmp_path / "expert.npz", game)  # a valid policy for the game


def test_experiment_modules_print_help():
    for module in ("horizon_sweep", "data_sweep", "routing", "coverage_family", "reproduce"):
        proc = subprocess.run(
            [sys.executable, "-m", f"regretgap.experiments.{module}", "--help"],
            capture_output=True,
            text=True,
            check=False,
        )
        assert proc.returncode == 0 and "usage: python -m regretgap.experiments." in proc.stdout
        assert "--quick" in proc.stdout


def test_repository_files_the_readme_promises():
    root = Path(__file__).resolve().parents[1]
    assert "MIT License" in (root / "LICENSE").read_text()
    readme = (root / "README.md").read_text()
    for target in re.findall(r"\]\(([^)#]+)\)", readme):
        if not target.startswith("http"):
            assert (root / target).exists(), target
    assert "docs/MATH.md" in readme and (root / "docs" / "MATH.md").exists()
    networks = root / "src" / "regretgap" / "networks"
    source = (networks / "SOURCE.md").read_text()
    shipped = {p.name for p in networks.rglob("*.tntp")}
    for name in re.findall(r"`([A-Za-z][\w-]*\.tntp)`", source):
        assert name in shipped, name
    named = set(re.findall(r"`([A-Za-z][\w-]*\.tntp)`", source))
    assert shipped <= named, f"shipped without attribution: {shipped - named}"
