"""Samples for the sampled learners: roll-ins, demonstrations, counted expert queries."""

from __future__ import annotations

import numpy as np
import pytest

import regretgap as rg
from regretgap.errors import ValidationError
from regretgap.games.random import random_game
from regretgap.sampled import (
    BudgetExhausted,
    CountingExpert,
    collect,
    demonstrations,
    from_demonstrations,
    policy_recommender,
)
from regretgap.sampled.data import check_samples_set, concat


def _setup(seed: int = 0):
    rng = np.random.default_rng(seed)
    game = random_game(4, (2, 2), 3, rng=rng)
    sigma = rng.dirichlet(np.ones(4), size=(3, 4))
    return game, sigma, rng


def test_collect_matches_the_exact_state_distribution_under_a_deviation() -> None:
    """Visit frequencies under pi_{sigma, phi_i} within 5 standard errors of the exact ones."""
    game, sigma, rng = _setup()
    phi = rng.integers(0, 2, size=(3, 4, 2))  # a deviation table [H, S, n_i]
    n = 20000
    sim = game.simulator()
    samples = collect(
        sim,
        policy_recommender(sigma),
        n,
        rng=rng,
        agent=1,
        deviation=lambda h, s, a: phi[h, s, a],
    )
    exact = rg.state_distribution(game, rg.apply_deviation(game, sigma, 1, phi))
    for h in range(3):
        onehot = samples.features[samples.steps == h]
        freq = onehot.reshape(n, 3, 4)[:, h].mean(axis=0)
        p = exact[h]
        assert np.all(np.abs(freq - p) <= 5 * np.sqrt(p * (1 - p) / n) + 1e-12)


def test_from_demonstrations_round_trips_the_exact_data() -> None:
    game, sigma, rng = _setup(1)
    demos = rg.as_demonstrations(rg.sample_trajectories(game, sigma, 7, rng=rng))
    samples = from_demonstrations(game.simulator(), demos)
    assert len(samples) == 21 and samples.num_episodes == 7
    for h in range(3):
        rows = samples.steps == h
        np.testing.assert_array_equal(samples.actions[rows], demos.actions[:, h])
        np.testing.assert_array_equal(
            samples.features[rows].argmax(axis=1), h * 4 + demos.states[:, h]
        )


def test_split_keeps_episodes_whole_and_concat_renumbers() -> None:
    game, sigma, rng = _setup(2)
    d = demonstrations(game.simulator(), policy_recommender(sigma), 10, rng=rng)
    train, held = d.split(0.3, rng)
    assert set(train.episodes).isdisjoint(held.episodes)
    assert len(train) + len(held) == len(d) and len(held) == 9
    both = concat([d, d])
    assert both.num_episodes == 20 and len(both) == 60


def test_counting_expert_counts_checks_and_enforces_its_budget() -> None:
    game, sigma, rng = _setup(3)
    sim = game.simulator()
    expert = CountingExpert(policy_recommender(sigma), (2, 2), budget=10)
    demonstrations(sim, expert, 3, rng=rng)
    assert expert.queries == 9 and expert.remaining == 1
    with pytest.raises(BudgetExhausted, match="budget of 10"):
        expert(np.zeros(2, dtype=int), 0, rng)
    assert expert.queries == 9
    liar = CountingExpert(lambda s, h, r: np.full(len(s), 4), (2, 2))
    with pytest.raises(ValidationError, match=r"expert's answer at h = 0.*outside 0..3"):
        liar(np.zeros(2, dtype=int), 0, rng)
    with pytest.raises(ValidationError, match="budget"):
        CountingExpert(liar, (2, 2), budget=0)


def test_bad_input() -> None:
    game, sigma, rng = _setup(4)
    sim = game.simulator()
    rec = policy_recommender(sigma)
    with pytest.raises(ValidationError, match="positive integer"):
        collect(sim, rec, 0, rng=rng)
    with pytest.raises(ValidationError, match="together"):
        collect(sim, rec, 2, rng=rng, agent=0)
    with pytest.raises(ValidationError, match="deviation at h = 0"):
        collect(sim, rec, 2, rng=rng, agent=0, deviation=lambda h, s, a: a + 5)
    with pytest.raises(ValidationError, match="recommendation at h = 0"):
        collect(sim, lambda s, h, r: np.full(len(s), -1), 2, rng=rng)
    with pytest.raises(ValidationError, match=r"features\[1, 0\] is nan"):
        check_samples_set((np.array([[0.0], [np.nan]]), [0, 0], [0, 0], [0, 1]))
    with pytest.raises(ValidationError, match="empty"):
        check_samples_set((np.zeros((0, 1)), [], [], []))
