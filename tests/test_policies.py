"""Mediator policies and deviation tables: validation, helpers, apply_deviation."""

from __future__ import annotations

import numpy as np
import pytest
import reference as ref
from strategies import dense_random_game, random_policy

import regretgap as rg


@pytest.fixture
def game():
    return dense_random_game(np.random.default_rng(0), (2, 3), 3, 2)


def test_stationary_policy_is_broadcast_without_copy(game):
    sigma = rg.uniform_policy(game)
    full = rg.as_policy(game, sigma)
    assert full.shape == (2, 3, 6) and np.shares_memory(full, sigma)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda g: np.ones((3, 5)) / 5, "must have shape [H, S, A] = (2, 3, 6)"),
        (lambda g: np.full((3, 6), 0.2), "state 0 sums to 1.2"),
        (lambda g: np.where(np.eye(3, 6) > 0, 1.5, -0.1), "sigma[0, 1] is -0.1"),
        (lambda g: np.full((2, 3, 6), np.nan), "sigma[0, 0, 0] is nan"),
        (
            lambda g: np.concatenate([np.full((1, 3, 6), 1 / 6), np.full((1, 3, 6), 0.1)]),
            "step 1, state 0 sums to",
        ),
    ],
)
def test_bad_policies(game, make, message):
    with pytest.raises(ValueError) as info:
        rg.values(game, make(game))
    assert message in str(info.value)


def test_deterministic_and_product_policies(game):
    det = rg.deterministic_policy(game, np.array([0, 5, 3]))
    assert det.shape == (3, 6) and np.all(det.sum(1) == 1) and det[1, 5] == 1
    with pytest.raises(ValueError, match=r"0\.\.5"):
        rg.deterministic_policy(game, np.array([0, 6, 3]))
    rng = np.random.default_rng(1)
    p0 = rng.dirichlet(np.ones(2), size=3)
    p1 = rng.dirichlet(np.ones(3), size=3)
    joint = rg.product_policy(game, [p0, p1])
    for s in range(3):
        np.testing.assert_allclose(joint[s].reshape(2, 3), np.outer(p0[s], p1[s]))
    np.testing.assert_allclose(rg.marginal(game, joint, 1)[0], p1)
    with pytest.raises(ValueError, match="per-agent policy 1"):
        rg.product_policy(game, [p0, p0])


def test_apply_deviation_matches_reference(game):
    rng = np.random.default_rng(2)
    sigma = random_policy(rng, game)
    for i in range(2):
        phi = rng.integers(0, game.num_actions[i], size=(2, 3, game.num_actions[i]))
        played = rg.apply_deviation(game, sigma, i, phi)
        np.testing.assert_allclose(played, ref.played_policy(game, sigma, i, phi), atol=1e-15)
        np.testing.assert_allclose(played.sum(-1), 1.0)
    const = rg.constant_deviation(game, 1, 2)
    played = rg.apply_deviation(game, sigma, 1, const)
    assert np.all(played.reshape(2, 3, 2, 3)[..., :2] == 0)


@pytest.mark.parametrize(
    ("phi", "message"),
    [
        (np.array([0, 1, 3]), "maps to action 3"),
        (np.array([0, 1, 3]), "actions must lie in 0..2"),
        (np.array([0, -1, 2]), "maps to action -1"),
        (np.zeros((3, 2), dtype=int), "must have shape [H, S, n_i] = (2, 3, 3)"),
        (np.array([0.5, 1, 2]), "integer actions"),
        (np.array([True, False, True]), "integer actions"),
        (np.array(["0", "1", "2"]), "integer actions"),
        (np.array([0, 1, 2], dtype=complex), "integer actions"),
    ],
)
def test_bad_deviations(game, phi, message):
    with pytest.raises(ValueError) as info:
        rg.apply_deviation(game, rg.uniform_policy(game), 1, phi)
    assert message in str(info.value)


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int32, np.uint8])
def test_integer_valued_deviation_tables_of_any_numeric_dtype_are_accepted(game, dtype):
    phi = rg.as_deviation(game, 1, np.array([2, 1, 0], dtype=dtype))
    assert phi.dtype == np.int64 and phi.shape == (2, 3, 3)
    np.testing.assert_array_equal(phi[1, 2], [2, 1, 0])


def test_bad_agent_and_kind(game):
    sigma = rg.uniform_policy(game)
    with pytest.raises(ValueError, match=r"agent 2 is outside 0\.\.1"):
        rg.best_response(game, sigma, 2)
    with pytest.raises(ValueError, match="unknown deviation kind 'nash'"):
        rg.regret(game, sigma, kind="nash")
    with pytest.raises(ValueError, match="one list of deviation tables per agent, got 5"):
        rg.regret(game, sigma, kind=5)
    with pytest.raises(ValueError, match="or a list of deviation tables, got 5"):
        rg.best_response(game, sigma, 0, kind=5)
    with pytest.raises(ValueError, match="one list per agent"):
        rg.regret(game, sigma, kind=[[np.arange(2)]])
    with pytest.raises(ValueError, match="reward must have shape"):
        rg.regret(game, sigma, reward=np.zeros((3, 6)))
    with pytest.raises(ValueError, match="not finite"):
        rg.values(game, sigma, reward=np.full((2, 3, 6), np.nan))


def test_swap_class_size_limit():
    big = dense_random_game(np.random.default_rng(0), (7,), 1, 1)
    with pytest.raises(ValueError, match="exceed the limit"):
        rg.swap_deviations(big, 0)
