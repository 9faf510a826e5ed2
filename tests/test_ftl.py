"""The follow-the-leader loop that MALICE, BLADES, ALICE and DAgger share on both back ends."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

import regretgap as rg
from regretgap._ftl import Leader, follow_the_leader

SRC = Path(rg.__file__).parent


def _counter(stop_after: int | None = None):
    """A toy learner: the aggregate is a list of round numbers, an iterate its sum."""
    aggregate: list[int] = []
    played: list[int] = []

    def play(sigma: int) -> bool:
        if stop_after is not None and len(played) >= stop_after:
            return False
        played.append(sigma)
        aggregate.append(len(aggregate) + 1)
        return True

    return aggregate, played, play


def test_each_round_plays_the_latest_iterate_and_refits_on_the_whole_aggregate() -> None:
    aggregate, played, play = _counter()
    leader = follow_the_leader(0, 4, play, lambda: sum(aggregate), lambda its: [1.0] * len(its))
    # refit sums every round so far: 1, 1+2, 1+2+3, 1+2+3+4 (follow the leader, not the last)
    assert leader.iterates == (0, 1, 3, 6, 10)
    assert played == [0, 1, 3, 6]  # round n plays iterate n
    assert leader.validation == (1.0,) * 5
    assert isinstance(leader, Leader)


def test_best_is_the_argmin_and_the_earliest_of_equal_ones() -> None:
    aggregate, _, play = _counter()
    losses = [3.0, 1.0, 2.0, 1.0, 5.0]
    leader = follow_the_leader(0, 4, play, lambda: sum(aggregate), lambda its: losses)
    assert leader.best == 1
    assert leader.policy == leader.iterates[1] == 1
    assert all(isinstance(v, float) for v in leader.validation)


def test_play_returning_false_stops_early_and_keeps_the_rounds_played() -> None:
    aggregate, played, play = _counter(stop_after=2)
    seen: list[int] = []

    def validate(its):
        seen.extend(its)
        return np.arange(len(its), 0, -1, dtype=float)  # the last is best

    leader = follow_the_leader(0, 10, play, lambda: sum(aggregate), validate)
    assert leader.iterates == (0, 1, 3)
    assert played == [0, 1]  # the third call returned False before playing
    assert seen == [0, 1, 3]  # validate runs once, on every iterate
    assert leader.best == 2


def test_zero_rounds_return_the_first_iterate() -> None:
    leader = follow_the_leader("sigma_1", 0, lambda s: True, lambda: "x", lambda its: [0.5])
    assert leader.iterates == ("sigma_1",) and leader.best == 0


def test_a_validation_of_the_wrong_length_is_an_error() -> None:
    aggregate, _, play = _counter()
    with pytest.raises(RuntimeError, match="2 losses for 3 iterates"):
        follow_the_leader(0, 2, play, lambda: sum(aggregate), lambda its: [0.0, 0.0])


def test_the_loop_is_written_once_and_holds_no_rewards() -> None:
    """Every follow-the-leader learner calls the one loop, and the loop imports nothing of
    ours (the learners import it, so it must not reach the utilities)."""
    tree = ast.parse((SRC / "_ftl.py").read_text())
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert imported <= {"__future__", "collections.abc", "dataclasses", "typing", "numpy"}
    for path in (
        "learners/querying.py",
        "learners/reweighting.py",
        "sampled/querying.py",
        "sampled/reweighting.py",
    ):
        text = (SRC / path).read_text()
        assert "follow_the_leader(" in text, path
        assert "np.argmin(validation)" not in text, f"{path} picks its best iterate itself"
