"""Sampled MURMAIL: the Nash gap falls, every answer is counted, the update is the exact
exponentiated-gradient step, states come from the simulator's start, bad input is refused
before any query, and the module imports nothing that holds rewards."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import numpy as np
import pytest
from test_murmail import _start_game, _zero_sum_case, nash_gap

import regretgap as rg
from regretgap.games import matrix_game
from regretgap.learners import mirror_descent_step
from regretgap.sampled import MurmailPolicy, murmail, policy_recommender

SMALL = {"adversary_episodes": 64, "adversary_batch": 64, "eval_episodes": 32, "batch": 32}


class _Counted:
    """A joint expert that records every state it answers."""

    def __init__(self, sigma):
        self.inner = policy_recommender(sigma)
        self.asked: list[tuple[int, np.ndarray]] = []

    def __call__(self, states, h, rng):
        self.asked.append((h, np.asarray(states).copy()))
        return self.inner(states, h, rng)


def _run(iterations, seed, expert=None, game=None, **kw):
    if game is None:
        game, nash = _zero_sum_case()
        expert = expert or policy_recommender(rg.product_policy(game, nash))
    return murmail(game.simulator(), expert, rng=np.random.default_rng(seed),
                   iterations=iterations, **{**SMALL, **kw})  # fmt: skip


def test_the_nash_gap_falls_with_iterations():
    # measured (seeds 0, 1): 1.00 after 2 iterations, 0.54 after 24
    game, _ = _zero_sum_case()
    sim = game.simulator()
    early = np.mean([nash_gap(game, _run(2, s).policy.agent_tables(sim)) for s in (0, 1)])
    late = np.mean([nash_gap(game, _run(24, s).policy.agent_tables(sim)) for s in (0, 1)])
    assert late < 0.7 * early
    res = _run(24, 0)
    assert np.mean(res.history.uncertainty[-3:]) < 0.5 * res.history.uncertainty[0]


def test_every_answer_is_counted():
    game, nash = _zero_sum_case()
    expert = _Counted(rg.product_policy(game, nash))
    res = _run(2, 0, expert=expert, game=game)
    answered = sum(s.size for _, s in expert.asked)
    # per agent and iteration: two answers at each of H states of the adversary's 64
    # training and 32 evaluation episodes, one for each of the 32 roll-ins
    per = 2 * (2 * game.horizon * (64 + 32) + 32)
    assert res.queries == answered == 2 * per
    assert res.history.queries == (per, 2 * per)


def test_the_update_is_the_exponentiated_gradient_step_and_the_output_their_average():
    game = matrix_game(np.zeros((2, 2, 3)))  # one state, H = 1: every sample at one row
    expert = rg.product_policy(game, (np.array([[0.0, 1.0]]), np.array([[1.0, 0.0, 0.0]])))
    res = murmail(game.simulator(), policy_recommender(expert), rng=np.random.default_rng(0),
                  iterations=2, step_size=1.5, **SMALL)  # fmt: skip
    tables = res.policy.agent_tables(game.simulator())
    for i, (n, a) in enumerate(((2, 1), (3, 0))):
        # a deterministic expert: every answer is e_a, so g = pi - e_a exactly
        pi_1 = mirror_descent_step(np.full((1, 1, n), 1 / n), [0], [0], np.eye(n)[[a]], 1.5)
        pi_2 = mirror_descent_step(pi_1, [0], [0], np.eye(n)[[a]], 1.5)
        np.testing.assert_allclose(tables[i], (pi_1 + pi_2) / 2, rtol=1e-12)


def test_states_come_from_the_simulators_start():
    game = _start_game()  # state 2 has initial probability 0 and is never reached
    expert = _Counted(np.full((2, 3, 4), 0.25))
    _run(2, 0, expert=expert, game=game)
    assert all(np.all(s != 2) for _, s in expert.asked)


def test_the_maximum_uncertainty_response_is_the_other_agents():
    """As the exact test: agent 0 is uncertain only at state 1, which only agent 1's action 1
    reaches; the adversary's Monte Carlo value per step is 0.325 (0.2 were agent 0 its own
    adversary)."""
    game = _start_game()
    expert_0 = np.zeros((2, 3, 2))
    expert_0[:, 0] = [0.5, 0.5]
    expert_0[:, 1:] = [1.0, 0.0]
    sigma = rg.product_policy(game, (expert_0, np.full((2, 3, 2), 0.5)))
    res = _run(1, 0, expert=policy_recommender(sigma), game=game, adversary_episodes=512,
               eval_episodes=4000)  # fmt: skip
    # per step u lies in [0.5 - 1, 0.5 + 1] at the uniform start, an episode's sum (H = 2)
    # in an interval of width 4: Hoeffding at delta = 1e-6 bounds the evaluation mean's error
    # by 4 sqrt(log(2e6) / 8000) = 0.17, 0.085 per step (measured, seeds 0-4: 0.321-0.332)
    assert res.history.uncertainty[0] == pytest.approx(0.325, abs=0.085)


def _never(states, h, rng):
    raise AssertionError("the expert was asked before the arguments were checked")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"iterations": 0}, "iterations"),
        ({"batch": 0}, "batch"),
        ({"step_size": 0.0}, "step_size"),
        ({"epsilon": 2.0}, "epsilon"),
        ({"adversary": "oracle"}, "adversary"),
        ({"policy": MurmailPolicy((3, 3))}, "MurmailPolicy"),
        ({"rng": np.random.RandomState(0)}, "Generator"),
    ],
)
def test_bad_input_is_refused_before_any_query(kwargs, message):
    game, _ = _zero_sum_case()
    args = {"rng": np.random.default_rng(0), **kwargs}
    with pytest.raises(rg.ValidationError, match=message):
        murmail(game.simulator(), _never, **args)
    single = matrix_game(np.zeros((1, 2)))
    with pytest.raises(rg.ValidationError, match="at least 2 agents"):
        murmail(single.simulator(), _never, rng=np.random.default_rng(0))


def test_the_module_imports_nothing_that_holds_rewards():
    module = importlib.import_module("regretgap.sampled.nash_imitation")
    tree = ast.parse(Path(module.__file__).read_text())
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    allowed = {
        "__future__", "collections.abc", "math", "typing", "numpy", "regretgap._repr",
        "regretgap._checks", "regretgap.errors",
        "regretgap.simulator", "regretgap.sampled.data", "regretgap.sampled.policies",
        "regretgap.sampled.adversary",
    }  # fmt: skip
    assert imported <= allowed, imported - allowed
