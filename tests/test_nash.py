"""Nash exploitability: hand values (with the minimising player's sign), the CCE regret of
the product mediator, brute force over every pure Markov response, and OpenSpiel's
``nash_conv`` per-player improvements on matrix games."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import regretgap as rg
from regretgap.games import matrix_game, random_game

PENNIES = np.array([[[1, -1], [-1, 1]], [[-1, 1], [1, -1]]], dtype=float)


def test_matching_pennies_hand_values_and_the_minimisers_sign():
    g = matrix_game(PENNIES)
    half = [np.array([[0.5, 0.5]])] * 2
    assert rg.nash_gap(g, half).value == 0.0
    # both play heads: the matcher (agent 0) is content, the mismatcher (agent 1, who gets
    # -1 here) gains 2 by switching; the sign error of public code reports 0 for it
    gap = rg.nash_gap(g, [np.array([[1.0, 0.0]])] * 2)
    np.testing.assert_allclose(gap.per_agent, [0.0, 2.0])
    assert gap.value == 2.0
    assert gap.best_responses[1].deviation[0, 0, 0] == 1  # tails


def test_nash_gap_is_the_cce_regret_of_the_product_mediator():
    for seed in range(5):
        rng = np.random.default_rng(seed)
        game = random_game(6, (2, 3), 3, rng=rng, branching=3)
        parts = [rng.dirichlet(np.ones(n), size=(3, 6)) for n in game.num_actions]
        gap = rg.nash_gap(game, parts)
        reg = rg.regret(game, rg.product_policy(game, parts), kind="cce")
        np.testing.assert_allclose(gap.per_agent, reg.per_agent, atol=1e-12)


def test_nash_gap_against_brute_force_over_pure_markov_responses():
    rng = np.random.default_rng(3)
    game = random_game(2, (2, 2), 2, rng=rng, branching=2)
    parts = [rng.dirichlet(np.ones(2), size=(2, 2)) for _ in range(2)]
    base = rg.values(game, rg.product_policy(game, parts))
    want = []
    for i in range(2):
        best = -np.inf
        for choice in itertools.product(range(2), repeat=4):  # b[h, s]: 2^(H S) responses
            pure = np.zeros((2, 2, 2))
            pure[np.repeat([0, 1], 2), np.tile([0, 1], 2), list(choice)] = 1.0
            others = list(parts)
            others[i] = pure
            best = max(best, rg.values(game, rg.product_policy(game, others))[i])
        want.append(best - base[i])
    np.testing.assert_allclose(rg.nash_gap(game, parts).per_agent, want, atol=1e-12)


@pytest.mark.parametrize("seed", range(4))
def test_nash_gap_matches_openspiel_nash_conv_on_matrix_games(seed):
    pyspiel = pytest.importorskip("pyspiel")
    from open_spiel.python import policy
    from open_spiel.python.algorithms import exploitability

    rng = np.random.default_rng(seed)
    payoffs = rng.integers(-3, 4, size=(2, 2, 3)).astype(float)
    spiel = pyspiel.create_matrix_game(payoffs[0].tolist(), payoffs[1].tolist())
    parts = [rng.dirichlet(np.ones(2)), rng.dirichlet(np.ones(3))]
    tab = policy.TabularPolicy(spiel)
    tab.action_probability_array[0] = 0.0
    tab.action_probability_array[0, :2] = parts[0]
    tab.action_probability_array[1, :3] = parts[1]
    theirs = exploitability.nash_conv(spiel, tab, return_only_nash_conv=False)
    ours = rg.nash_gap(matrix_game(payoffs), [p[None] for p in parts])
    np.testing.assert_allclose(ours.per_agent, theirs.player_improvements, atol=1e-9)


def test_nash_gap_refuses_bad_input():
    g = matrix_game(PENNIES)
    with pytest.raises(rg.ValidationError, match="expected 2 per-agent policies"):
        rg.nash_gap(g, [np.array([[0.5, 0.5]])])
    with pytest.raises(rg.ValidationError, match="agent 1: row"):
        rg.nash_gap(g, [np.array([[0.5, 0.5]]), np.array([[0.5, 0.6]])])
    with pytest.raises(rg.ValidationError, match="not a product policy"):
        rg.nash_gap(g, np.full((1, 4), 0.25))
    with pytest.raises(rg.ValidationError, match="negative"):
        rg.nash_gap(g, [np.array([[1.5, -0.5]]), np.array([[0.5, 0.5]])])


def test_concentrability_closed_forms_and_the_infinite_case():
    from regretgap.games import theorem_4_5, theorem_5_4

    # Theorem 4.5: s_1 is reached only by a deviation: infinite, at (h = 1, s = 1)
    c = rg.concentrability(theorem_4_5(5).game, theorem_4_5(5).expert)
    assert c.value == np.inf and (c.step, c.state) == (1, 1)
    assert rg.coverage(theorem_4_5(5).game, theorem_4_5(5).expert).uncovered.tolist() == [1]
    # Theorem 5.4: the expert reaches s_1 w.p. 2 beta, agent 0's deviation always: 1/(2 beta)
    for beta in (0.2, 0.05, 0.0125):
        t = theorem_5_4(6, beta, 0.0, 4)
        c = rg.concentrability(t.game, t.expert)
        assert c.value == pytest.approx(1 / (2 * beta)) and c.agent == 0
        assert c.value <= 1 / rg.coverage(t.game, t.expert).per_step_beta + 1e-12


def test_concentrability_against_brute_force_over_deterministic_deviations():
    """Every deterministic per-step deviation table of every agent on a small game: the
    largest reach ratio found by enumeration equals the coefficient."""
    rng = np.random.default_rng(5)
    game = random_game(3, (2, 2), 2, rng=rng, branching=2)
    expert = rng.dirichlet(np.ones(4), size=(2, 3))
    d_e = rg.state_distribution(game, expert)
    best = 0.0
    for i in range(2):
        for table in itertools.product(range(2), repeat=2 * 3 * 2):  # phi[h, s, a_i]
            phi = np.array(table).reshape(2, 3, 2)
            d = rg.state_distribution(game, rg.apply_deviation(game, expert, i, phi))
            with np.errstate(divide="ignore", invalid="ignore"):
                r = np.where(d > 1e-12, d / d_e, 0.0)
            best = max(best, float(r.max()))
    assert rg.concentrability(game, expert).value == pytest.approx(best, rel=1e-9)
