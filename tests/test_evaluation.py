"""Exact evaluation: differential tests against dense references and brute force,
invariants over random games, and the paper's reductions (Theorems D.1 and 4.3)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import reference as ref
import scipy.sparse as sp
from hypothesis import given
from hypothesis import strategies as st
from strategies import dense_random_game, games_and_policies, random_policy

import regretgap as rg
from regretgap.games import random_game

ATOL = 1e-10


@given(games_and_policies())
def test_values_match_dense_forward_recursion(case):
    game, sigma, _ = case
    np.testing.assert_allclose(rg.values(game, sigma), ref.values(game, sigma), atol=ATOL)


@given(games_and_policies())
def test_distributions_sum_to_one(case):
    game, sigma, _ = case
    d = rg.state_distribution(game, sigma)
    occ = rg.occupancy(game, sigma)
    np.testing.assert_allclose(d.sum(axis=1), 1.0, atol=1e-12)
    np.testing.assert_allclose(occ.sum(axis=(1, 2)), 1.0, atol=1e-12)
    assert d.min() >= 0 and occ.min() >= 0
    # J_i is the occupancy's inner product with r_i (paper section 3)
    np.testing.assert_allclose(
        np.einsum("hsa,isa->i", occ, game.rewards), rg.values(game, sigma), atol=ATOL
    )


@given(games_and_policies())
def test_value_functions_are_consistent(case):
    game, sigma, _ = case
    vf = rg.value_functions(game, sigma)
    np.testing.assert_allclose(game.initial @ vf.v[0].T, rg.values(game, sigma), atol=ATOL)
    pol = rg.as_policy(game, sigma)
    np.testing.assert_allclose(np.einsum("hsa,hisa->his", pol, vf.q), vf.v[:-1], atol=ATOL)
    assert np.all(vf.v[-1] == 0)


@pytest.mark.parametrize(
    ("num_actions", "num_states", "horizon"),
    [
        ((2,), 2, 3),
        ((3,), 1, 2),
        ((2, 2), 2, 2),
        ((2, 3), 1, 2),
        ((3, 2), 2, 1),
        ((2, 2, 2), 1, 2),
        ((2, 1, 2), 2, 2),
    ],
)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_dp_best_response_equals_brute_force(num_actions, num_states, horizon, seed):
    """The DP over the complete per-step class equals enumeration of every deterministic
    per-step deviation table, for every agent."""
    rng = np.random.default_rng(seed)
    game = dense_random_game(rng, num_actions, num_states, horizon)
    sigma = random_policy(rng, game)
    checked = 0
    for i in range(game.num_agents):
        if game.num_actions[i] ** (horizon * num_states * game.num_actions[i]) > 5000:
            continue  # too many tables to enumerate for this agent
        checked += 1
        br = rg.best_response(game, sigma, i)
        assert br.value == pytest.approx(ref.brute_force_best_value(game, sigma, i), abs=ATOL)
        # a best response is a policy the ordinary evaluator can score
        played = rg.apply_deviation(game, sigma, i, br.deviation)
        assert rg.values(game, played)[i] == pytest.approx(br.value, abs=ATOL)
        assert br.gain == pytest.approx(br.value - rg.values(game, sigma)[i], abs=ATOL)
    assert checked > 0  # every parametrisation compares at least one agent


@pytest.mark.parametrize("seed", range(4))
def test_per_step_class_equals_stationary_class_on_layered_games(seed):
    """MATH.md: on layered games the paper's stationary complete class and the per-step
    class coincide; on a non-layered game the per-step class can only be larger."""
    rng = np.random.default_rng(seed)
    layered = random_game(6, (2, 2), 3, rng=rng, branching=2, layered=True)
    assert layered.is_layered
    sigma = random_policy(rng, layered)
    for i in range(2):
        stationary = ref.brute_force_best_value(
            layered, sigma, i, ref.all_stationary_deviations(layered, i)
        )
        assert rg.best_response(layered, sigma, i).value == pytest.approx(stationary, abs=ATOL)
    loop = dense_random_game(rng, (2, 2), 2, 3)
    assert not loop.is_layered
    sigma = random_policy(rng, loop)
    stationary = ref.brute_force_best_value(loop, sigma, 0, ref.all_stationary_deviations(loop, 0))
    assert rg.best_response(loop, sigma, 0).value >= stationary - ATOL


@given(games_and_policies())
def test_regret_invariants(case):
    game, sigma, _ = case
    rep = rg.regret(game, sigma)
    assert rep.value >= 0 and np.all(rep.per_agent >= 0)
    assert rep.value == pytest.approx(rep.per_agent.max())
    assert rep.per_agent[rep.agent] == rep.value
    np.testing.assert_allclose(rep.agent_values, rg.values(game, sigma), atol=ATOL)
    cce = rg.regret(game, sigma, kind="cce")
    assert np.all(cce.per_agent <= rep.per_agent + ATOL)
    # the identity deviation gains exactly nothing
    for i in range(game.num_agents):
        ident = rg.identity_deviation(game, i)
        np.testing.assert_allclose(
            rg.apply_deviation(game, sigma, i, ident), rg.as_policy(game, sigma), atol=1e-15
        )
        only_identity = rg.best_response(game, sigma, i, kind=[ident])
        assert only_identity.gain == 0.0
    assert rg.regret_gap(game, sigma, sigma) == 0.0
    assert rg.value_gap(game, sigma, sigma) == 0.0


@given(games_and_policies(max_joint=8))
def test_swap_and_finite_lists_are_bounded_by_complete_class(case):
    game, sigma, _ = case
    ce = rg.regret(game, sigma)
    swap = rg.regret(game, sigma, kind="swap")
    assert np.all(swap.per_agent <= ce.per_agent + ATOL)
    # a finite list containing the DP's own table attains the complete-class value
    lists = [[d] for d in ce.deviations]
    listed = rg.regret(game, sigma, kind=lists)
    np.testing.assert_allclose(listed.per_agent, ce.per_agent, atol=ATOL)


def test_swap_enumeration_matches_explicit_evaluation():
    """The swap class is every map A_i -> A_i (n_i ** n_i of them), built here with
    itertools.product and scored one by one with the dense reference."""
    rng = np.random.default_rng(5)
    game = dense_random_game(rng, (3, 2), 3, 2)
    sigma = random_policy(rng, game)
    maps = [np.array(m) for m in itertools.product(range(3), repeat=3)]
    scores = [ref.values(game, ref.played_policy(game, sigma, 0, m))[0] for m in maps]
    best = int(np.argmax(scores))
    # on this instance the best swap is not a permutation: a class of permutations only
    # (or any other subset missing it) would score lower
    assert len(set(maps[best].tolist())) < 3
    assert max(s for m, s in zip(maps, scores, strict=True) if len(set(m.tolist())) == 3) < (
        scores[best] - 1e-3
    )
    assert rg.best_response(game, sigma, 0, kind="swap").value == pytest.approx(
        scores[best], abs=ATOL
    )
    for m, score in zip(maps, scores, strict=True):
        assert rg.best_response(game, sigma, 0, kind=[m]).value == pytest.approx(
            max(score, rg.values(game, sigma)[0]), abs=ATOL
        )
    listed = {tuple(m.tolist()) for m in rg.swap_deviations(game, 0)}
    assert listed == {tuple(m.tolist()) for m in maps} and len(rg.swap_deviations(game, 0)) == 27


def test_cce_is_the_best_recommendation_ignoring_policy():
    rng = np.random.default_rng(6)
    game = dense_random_game(rng, (2, 2), 2, 2)
    sigma = random_policy(rng, game)
    # every Markov policy b(h, s) of agent 1, played regardless of the recommendation
    best = max(
        ref.values(game, ref.played_policy(game, sigma, 1, np.repeat(b[..., None], 2, -1)))[1]
        for b in (np.array(x).reshape(2, 2) for x in np.ndindex(2, 2, 2, 2))
    )
    br = rg.best_response(game, sigma, 1, kind="cce")
    assert br.value == pytest.approx(max(best, rg.values(game, sigma)[1]), abs=ATOL)
    assert np.all(br.deviation == br.deviation[..., :1])  # constant in the recommendation


@given(games_and_policies())
def test_sparse_and_dense_transitions_agree(case):
    game, sigma, _ = case
    dense_game = rg.MarkovGame(
        game.transition_tensor(), game.rewards, game.initial, game.horizon, game.num_actions
    )
    coo = rg.MarkovGame(
        sp.coo_matrix(game.transitions), game.rewards, game.initial, game.horizon, game.num_actions
    )
    a = rg.regret(game, sigma)
    for other in (dense_game, coo):
        b = rg.regret(other, sigma)
        np.testing.assert_array_equal(a.per_agent, b.per_agent)
        np.testing.assert_array_equal(a.agent_values, b.agent_values)


@given(games_and_policies(max_agents=1), st.integers(0, 2**32 - 1))
def test_single_agent_regret_gap_equals_value_gap(case, seed):
    """Theorem D.1: with one agent the regret gap is the value gap."""
    game, sigma, _ = case
    other = random_policy(np.random.default_rng(seed), game)
    assert rg.regret_gap(game, sigma, other) == pytest.approx(
        rg.value_gap(game, sigma, other), abs=1e-9
    )


@pytest.mark.parametrize("seed", range(5))
def test_indicator_reward_regret_is_occupancy(seed):
    """Proof of Theorem 4.3 (E.1): under the common reward f = -1(s', a'), every agent's best
    deviation avoids a' (each has >= 2 actions), so R(sigma, f) = sum_h rho_h(s', a')."""
    rng = np.random.default_rng(seed)
    game = dense_random_game(rng, (2, 3), 3, 3)
    sigma = random_policy(rng, game)
    occ = rg.occupancy(game, sigma).sum(axis=0)
    for s, a in [(0, 0), (1, 4), (2, 5)]:
        f = np.zeros((2, 3, 6))
        f[:, s, a] = -1.0
        assert rg.regret(game, sigma, reward=f).value == pytest.approx(occ[s, a], abs=ATOL)


def test_regret_equivalence_over_indicators_forces_equal_occupancy():
    """Theorem 4.3's contrapositive on an example: policies with different occupancy differ
    in regret under some indicator reward."""
    rng = np.random.default_rng(11)
    game = dense_random_game(rng, (2, 2), 2, 2)
    p, q = random_policy(rng, game), random_policy(rng, game)
    occ_p, occ_q = rg.occupancy(game, p).sum(0), rg.occupancy(game, q).sum(0)
    s, a = np.unravel_index(np.argmax(np.abs(occ_p - occ_q)), occ_p.shape)
    f = np.zeros((2, 2, 4))
    f[:, s, a] = -1.0
    gap = rg.regret_gap(game, p, q, reward=f)
    assert gap == pytest.approx(occ_q[s, a] - occ_p[s, a], abs=ATOL) and abs(gap) > 1e-3


def test_time_dependent_reward_argument():
    rng = np.random.default_rng(3)
    game = dense_random_game(rng, (2, 2), 2, 2)
    sigma = random_policy(rng, game)
    stacked = np.broadcast_to(game.rewards, (2, *game.rewards.shape))
    assert rg.regret(game, sigma, reward=stacked).value == pytest.approx(
        rg.regret(game, sigma).value, abs=ATOL
    )
    # a reward paid only at the last step
    last = np.zeros_like(stacked)
    last[-1] = game.rewards
    d = rg.occupancy(game, sigma)[-1]
    np.testing.assert_allclose(
        rg.values(game, sigma, reward=last), np.einsum("sa,isa->i", d, game.rewards), atol=ATOL
    )
    br = rg.best_response(game, sigma, 0, reward=last)
    assert br.value == pytest.approx(
        ref.brute_force_best_value(game, sigma, 0, reward=last), abs=ATOL
    )


def test_best_response_on_a_larger_random_game_agrees_with_explicit_evaluation():
    rng = np.random.default_rng(0)
    game = random_game(300, (3, 4), 6, rng=rng, branching=3)
    sigma = random_policy(rng, game, stationary=True)
    rep = rg.regret(game, sigma)
    for i in range(2):
        played = rg.apply_deviation(game, sigma, i, rep.deviations[i])
        assert rg.values(game, played)[i] - rep.agent_values[i] == pytest.approx(
            rep.per_agent[i], abs=1e-9
        )
    np.testing.assert_allclose(rep.agent_values, ref.values(game, sigma), atol=1e-9)
