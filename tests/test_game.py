"""MarkovGame construction, validation messages, joint-action helpers, structure."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

import regretgap as rg
from regretgap.games import random_game, theorem_4_5


def parts(num_states=2, num_actions=(2, 2), seed=0):
    rng = np.random.default_rng(seed)
    a = int(np.prod(num_actions))
    t = rng.dirichlet(np.ones(num_states), size=(num_states, a))
    r = rng.uniform(-1, 1, size=(len(num_actions), num_states, a))
    rho = np.full(num_states, 1.0 / num_states)
    return dict(transitions=t, rewards=r, initial=rho, horizon=3, num_actions=num_actions)


def test_valid_game_is_frozen_and_readonly():
    game = rg.MarkovGame(**parts())
    assert (game.num_agents, game.num_states, game.num_joint_actions) == (2, 2, 4)
    with pytest.raises(AttributeError):
        game.horizon = 4
    with pytest.raises(ValueError):
        game.rewards[0, 0, 0] = 1.0
    with pytest.raises(ValueError):
        game.transitions.data[0] = 1.0
    assert "S=2" in repr(game)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda p: p.update(horizon=0), "horizon must be >= 1"),
        (lambda p: p.update(horizon=2.5), "horizon must be an integer"),
        (lambda p: p.update(num_actions=(2, 3)), "gives A = 6"),
        (lambda p: p.update(num_actions=(4,)), "names 1"),
        (lambda p: p.update(num_actions=(2, 0)), "num_actions[1] must be a positive"),
        (lambda p: p.update(num_actions=()), "at least one agent"),
        (lambda p: p["rewards"].__setitem__((1, 0, 3), np.nan), r"rewards[1, 0, 3] is nan"),
        (lambda p: p["rewards"].__setitem__((0, 1, 2), np.inf), "state 1, joint action 2 (1, 0)"),
        (lambda p: p.update(rewards=np.zeros((2, 2))), "rewards must have shape [m, S, A]"),
        (lambda p: p["transitions"].__setitem__((1, 2, 0), -0.5), "T(0 | s=1, a=2 (1, 0)) is -0.5"),
        (
            lambda p: p["transitions"].__setitem__((1, 3, 0), np.nan),
            "T(0 | s=1, a=3 (1, 1)) is nan",
        ),
        (
            lambda p: p["transitions"].__setitem__((0, 1, 1), 5.0),
            "state 0, joint action 1 (0, 1) sums to",
        ),
        (lambda p: p.update(transitions=np.ones((2, 4, 3)) / 3), "expected [S, A, S] = (2, 4, 2)"),
        (lambda p: p.update(initial=np.array([0.5, 0.6])), "initial sums to"),
        (lambda p: p.update(initial=np.array([1.5, -0.5])), "initial[1] is -0.5"),
        (lambda p: p.update(initial=np.ones(3) / 3), "initial must have shape [S]"),
    ],
)
def test_bad_games_raise_clear_value_errors(change, message):
    p = parts()
    change(p)
    with pytest.raises(ValueError) as info:
        rg.MarkovGame(**p)
    assert message in str(info.value)
    assert isinstance(info.value, rg.ValidationError)


def test_sparse_transitions_are_validated_too():
    p = parts()
    t = sp.csr_matrix(p["transitions"].reshape(8, 2))
    t.data[3] = 2.0
    with pytest.raises(ValueError, match="sums to"):
        rg.MarkovGame(**{**p, "transitions": t})
    with pytest.raises(ValueError, match=r"sparse transitions have shape \(8, 3\)"):
        rg.MarkovGame(**{**p, "transitions": sp.csr_matrix(np.ones((8, 3)) / 3)})


def test_joint_action_round_trip_follows_math_md_order():
    game = rg.MarkovGame(**parts(num_actions=(2, 3, 2), num_states=1))
    for a in range(12):
        acts = game.agent_actions(a)
        assert game.joint_action(acts) == a
        assert a == np.ravel_multi_index(acts, (2, 3, 2))  # agent 0 slowest
    assert game.agent_actions(1) == (0, 0, 1)
    np.testing.assert_array_equal(game.action_table[5], [0, 2, 1])
    arr = game.joint_action((np.array([0, 1]), np.array([2, 0]), np.array([1, 1])))
    np.testing.assert_array_equal(arr, [5, 7])
    with pytest.raises(ValueError, match="outside"):
        game.agent_actions(12)
    with pytest.raises(ValueError, match="agent 1's action"):
        game.joint_action((0, 3, 0))


def test_layered_detection_and_reachability():
    assert theorem_4_5(5).game.is_layered
    layered = random_game(20, (2,), 4, rng=np.random.default_rng(0), layered=True)
    assert layered.is_layered
    assert layered.reachable.sum(axis=0).max() == 1
    loop = random_game(20, (2,), 4, rng=np.random.default_rng(0))
    assert not loop.is_layered


def test_with_rewards_and_horizon_keep_dynamics():
    game = rg.MarkovGame(**parts())
    other = game.with_rewards(np.zeros_like(game.rewards)).with_horizon(5)
    assert other.horizon == 5 and np.all(other.rewards == 0)
    assert (other.transitions != game.transitions).nnz == 0
