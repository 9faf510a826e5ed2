"""Coverage (Assumption 5.2) and recoverability (Assumption 5.1) against brute force."""

from __future__ import annotations

import numpy as np
import pytest
import reference as ref
from strategies import dense_random_game, random_policy

import regretgap as rg


@pytest.mark.parametrize("seed", range(6))
def test_deviation_reachability_equals_union_over_every_deviation(seed):
    rng = np.random.default_rng(seed)
    game = dense_random_game(rng, (2, 2), 2, 3, sparsity=0.8)  # 2**12 tables per agent
    sigma = random_policy(rng, game, zeros=0.6)
    union = np.zeros((3, 2), dtype=bool)
    for i in range(2):
        for phi in ref.all_per_step_deviations(game, i) if seed < 2 else []:
            union |= rg.state_distribution(game, ref.played_policy(game, sigma, i, phi)) > 0
    if seed < 2:
        np.testing.assert_array_equal(rg.deviation_reachable(game, sigma), union)
    reach = rg.deviation_reachable(game, sigma)
    # the followed policy's support is always included, the game's reachable set bounds it
    assert np.all(reach[rg.state_distribution(game, sigma) > 0])
    assert np.all(~reach | game.reachable)


def test_coverage_values():
    rng = np.random.default_rng(1)
    game = dense_random_game(rng, (2, 2), 3, 4, sparsity=0.0)
    sigma = random_policy(rng, game)
    cov = rg.coverage(game, sigma)
    d = rg.state_distribution(game, sigma)
    assert cov.beta == pytest.approx(d.mean(0)[cov.reachable.any(0)].min())
    assert cov.per_step_beta == pytest.approx(d[cov.reachable].min())
    assert cov.uncovered.size == 0 and cov.beta > 0


@pytest.mark.parametrize("seed", range(5))
def test_recoverability_brackets_the_exact_maximum(seed):
    rng = np.random.default_rng(seed)
    game = dense_random_game(rng, (2, 2), 2, 2)
    sigma = random_policy(rng, game)
    exact = 0.0
    for i in range(2):
        for phi in ref.all_per_step_deviations(game, i):
            adv = ref.advantages(game, ref.played_policy(game, sigma, i, phi), i)
            exact = max(exact, adv[game.reachable].max())
    rec = rg.recoverability(game, sigma)
    assert rec.lower <= exact + 1e-12
    assert exact <= rec.upper + 1e-12
    _, h, s, _ = rec.witness
    assert game.reachable[h, s]
