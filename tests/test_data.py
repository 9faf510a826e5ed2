"""Sampling trajectories and Monte Carlo estimates against the exact evaluator."""

from __future__ import annotations

import numpy as np
import pytest
from strategies import dense_random_game, random_policy

import regretgap as rg
from regretgap.games import random_game, theorem_4_5

DELTA = 1e-6  # per-comparison failure probability of the Hoeffding bound


@pytest.fixture
def case():
    rng = np.random.default_rng(0)
    game = random_game(30, (2, 3), 6, rng=rng, branching=3)
    return game, random_policy(rng, game, zeros=0.5)


def test_trajectory_shapes_and_consistency(case):
    game, sigma = case
    traj = rg.sample_trajectories(game, sigma, n=500, rng=np.random.default_rng(1))
    assert traj.states.shape == traj.recommended.shape == traj.played.shape == (500, 6)
    assert traj.rewards.shape == (500, 6, 2) and len(traj) == 500
    np.testing.assert_array_equal(traj.played, traj.recommended)
    np.testing.assert_array_equal(traj.deviator, -1)
    pol = rg.as_policy(game, sigma)
    h = np.arange(6)[None, :]
    # zero-probability recommendations and transitions are never drawn
    assert np.all(pol[h, traj.states, traj.recommended] > 0)
    t = game.transition_tensor()
    assert np.all(t[traj.states[:, :-1], traj.played[:, :-1], traj.states[:, 1:]] > 0)
    assert np.all(game.initial[traj.states[:, 0]] > 0)
    np.testing.assert_array_equal(
        traj.rewards, np.moveaxis(game.rewards[:, traj.states, traj.played], 0, -1)
    )
    again = rg.sample_trajectories(game, sigma, n=500, rng=np.random.default_rng(1))
    np.testing.assert_array_equal(again.states, traj.states)


def test_sampling_under_a_deviation_records_both_actions():
    c = theorem_4_5(6)
    phi = np.zeros((6, c.game.num_states, 3), dtype=int)
    phi[:, :, 0] = 1  # a1 -> a2 everywhere
    phi[:, :, 1:] = [1, 2]
    traj = rg.sample_trajectories(
        c.game, c.learner, n=50, rng=np.random.default_rng(0), agent=0, deviation=phi
    )
    np.testing.assert_array_equal(traj.deviator, 0)
    np.testing.assert_array_equal(traj.recommended, 0)  # the mediator always says a1a1
    np.testing.assert_array_equal(traj.played, 3)  # agent 0 plays a2: joint (a2, a1)
    np.testing.assert_allclose(traj.returns, 4.0)  # H - 2 rewarded states


def test_monte_carlo_agrees_with_exact_values_within_hoeffding(case):
    game, sigma = case
    est = rg.monte_carlo_values(game, sigma, 20_000, rng=np.random.default_rng(2))
    half = est.hoeffding_halfwidth(DELTA)
    assert np.all(np.abs(est.mean - rg.values(game, sigma)) <= half)
    assert np.all(half < 0.25)  # the bound is informative at this sample size
    assert np.all(est.stderr > 0)


def test_monte_carlo_under_best_response_agrees_with_dp(case):
    game, sigma = case
    for i in range(2):
        br = rg.best_response(game, sigma, i)
        est = rg.monte_carlo_values(
            game, sigma, 20_000, rng=np.random.default_rng(3 + i), agent=i, deviation=br.deviation
        )
        assert abs(est.mean[i] - br.value) <= est.hoeffding_halfwidth(DELTA)[i]


def test_monte_carlo_detects_a_wrong_value():
    """The comparison above can fail: a shifted target falls outside the interval."""
    game = dense_random_game(np.random.default_rng(4), (2,), 3, 4)
    sigma = random_policy(np.random.default_rng(5), game)
    est = rg.monte_carlo_values(game, sigma, 50_000, rng=np.random.default_rng(6))
    exact = rg.values(game, sigma)
    assert np.all(np.abs(est.mean - (exact + 0.1)) > est.hoeffding_halfwidth(DELTA))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(n=0, rng=np.random.default_rng(0)), "positive integer"),
        (dict(n=3, rng=np.random.RandomState(0)), "numpy.random.Generator"),
        (dict(n=3, rng=np.random.default_rng(0), agent=0), "both agent and deviation"),
    ],
)
def test_sampling_bad_arguments(case, kwargs, message):
    game, sigma = case
    with pytest.raises(ValueError, match=message):
        rg.sample_trajectories(game, sigma, **kwargs)
