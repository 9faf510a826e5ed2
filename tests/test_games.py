"""The paper's constructions reproduce the numbers their proofs derive, for several H."""

from __future__ import annotations

import numpy as np
import pytest

import regretgap as rg
from regretgap import games

TOL = 1e-9


@pytest.mark.parametrize("horizon", [2, 3, 4, 7, 12, 30])
def test_theorem_4_5_value_equivalence_with_regret_gap_h_minus_2(horizon):
    c = games.theorem_4_5(horizon)
    g = c.game
    assert g.is_layered and g.num_states == 2 * horizon - 1
    # occupancy measures match exactly: value equivalence under every reward
    np.testing.assert_array_equal(rg.occupancy(g, c.expert), rg.occupancy(g, c.learner))
    assert rg.regret(g, c.expert).value == pytest.approx(0.0, abs=TOL)
    rep = rg.regret(g, c.learner)
    assert rep.value == pytest.approx(horizon - 2, abs=TOL)
    assert rg.regret_gap(g, c.expert, c.learner) == pytest.approx(c.expected["regret_gap"])
    assert c.expected["regret_gap"] == horizon - 2
    assert rg.value_gap(g, c.expert, c.learner) == 0.0
    np.testing.assert_array_equal(rg.values(g, c.learner), [0.0, 0.0])
    uniform = rg.regret(g, c.policies["uniform_at_s1"]).value
    assert uniform == pytest.approx((horizon - 2) / 3, abs=TOL)
    if horizon > 2:
        # the proof's worst deviation: agent 1 (index 0) maps a1 -> a2 at s_0 and s_1
        assert rep.agent == 0
        assert rep.deviations[0][0, 0, 0] == 1 and rep.deviations[0][1, 1, 0] == 1
        assert rep.per_agent[1] == pytest.approx(0.0, abs=TOL)
    # s_1 is reachable only by a deviation and never visited by the expert (Remark 4.6)
    np.testing.assert_array_equal(rg.coverage(g, c.expert).uncovered, [1])


@pytest.mark.parametrize(
    ("horizon", "beta", "epsilon", "u"),
    [(6, 0.25, 0.01, 6), (10, 0.1, 0.002, 7.5), (20, 0.3, 0.005, 12), (8, 0.05, 0.001, 3)],
)
def test_theorem_5_4_and_corollary_5_6(horizon, beta, epsilon, u):
    c = games.theorem_5_4(horizon, beta, epsilon, u)
    g, e = c.game, c.expected
    u_int = int(np.floor(u))
    assert rg.regret(g, c.expert).value == pytest.approx(0.5 * (1 - 2 * beta) * (u_int - 2))
    assert rg.regret(g, c.learner).value == pytest.approx(e["regret_learner"])
    gap = rg.regret_gap(g, c.expert, c.learner)
    assert gap == pytest.approx(epsilon * horizon * (u_int - 2) / (2 * beta))
    assert rg.value_gap(g, c.expert, c.learner) == pytest.approx(0.0, abs=TOL)
    np.testing.assert_allclose(rg.values(g, c.expert), e["value"])
    # BC error under the expert's average state distribution (proof E.8)
    d = rg.state_distribution(g, c.expert).mean(axis=0)
    tv = 0.5 * np.abs(c.expert - c.learner).sum(axis=1)
    assert d @ tv == pytest.approx(epsilon)
    # Corollary 5.6: moment-matching error sum |rho_E - rho| of the average occupancy
    occ_gap = np.abs(rg.occupancy(g, c.expert) - rg.occupancy(g, c.learner)).mean(0).sum()
    assert occ_gap == pytest.approx(e["irl_error"])
    cov = rg.coverage(g, c.expert)
    assert cov.per_step_beta == pytest.approx(e["per_step_coverage"])
    assert cov.uncovered.size == 0


@pytest.mark.parametrize(
    ("horizon", "beta", "epsilon", "u"), [(5, 0.2, 0.01, 5), (10, 0.1, 0.02, 4.2), (3, 0.5, 0.1, 3)]
)
def test_theorem_5_8_and_5_10(horizon, beta, epsilon, u):
    c = games.theorem_5_8(horizon, beta, epsilon, u)
    g, e = c.game, c.expected
    u_int = int(np.floor(u))
    assert g.num_agents == 1
    assert rg.regret(g, c.expert).value == pytest.approx(beta * (u_int - 1))
    assert rg.regret(g, c.learner).value == pytest.approx((beta + epsilon * horizon) * (u_int - 1))
    gap = rg.regret_gap(g, c.expert, c.learner)
    assert gap == pytest.approx(epsilon * horizon * (u_int - 1))
    assert gap == pytest.approx(rg.value_gap(g, c.expert, c.learner))  # Theorem D.1
    # MALICE / BLADES loss: TV at s_0 weighted by d(s_0) = 1/H under any deviation
    tv0 = 0.5 * np.abs(c.expert[0] - c.learner[0]).sum()
    assert tv0 / horizon == pytest.approx(e["malice_loss"])
    rec = rg.recoverability(g, c.expert)
    assert rec.lower == pytest.approx(u_int - 1) and rec.upper == pytest.approx(u_int - 1)
    assert rg.coverage(g, c.expert).per_step_beta == pytest.approx(e["per_step_coverage"])


def test_theorem_4_4_and_figure_5_lemmas():
    c = games.theorem_4_4()
    assert rg.regret_gap(c.game, c.expert, c.learner) == 0.0
    assert rg.value_gap(c.game, c.expert, c.learner) == pytest.approx(1.0)
    for prime in (False, True):
        f1 = games.lemma_f1(prime)
        assert rg.regret(f1.game, f1.expert).value == 0.0
        np.testing.assert_allclose(rg.values(f1.game, f1.expert), 1.0)
    f2 = games.lemma_f2()
    assert rg.regret(f2.game, f2.expert).value == 0.0
    assert rg.regret(f2.game, f2.learner).value == pytest.approx(0.0, abs=1e-12)
    np.testing.assert_allclose(rg.values(f2.game, f2.learner), 2 / 3)


@pytest.mark.parametrize(
    ("make", "value"), [(games.chicken, 5.25), (games.coordination, 2.0), (games.shapley, 0.5)]
)
def test_matrix_game_equilibria(make, value):
    game, ce = make()
    assert rg.regret(game, ce).value == pytest.approx(0.0, abs=1e-12)
    np.testing.assert_allclose(rg.values(game, ce), value)


def test_chicken_nash_play_and_a_non_equilibrium():
    game, _ = games.chicken()
    # (Chicken, Chicken) is not an equilibrium: Dare pays 7 > 6
    rep = rg.regret(game, np.array([[0.0, 0.0, 0.0, 1.0]]))
    np.testing.assert_allclose(rep.per_agent, [1.0, 1.0])
    # the mixed Nash equilibrium (each dares w.p. 1/3) has no regret either
    p = np.array([1 / 3, 2 / 3])
    assert rg.regret(game, np.outer(p, p).reshape(1, 4)).value == pytest.approx(0.0, abs=1e-12)


def test_shapley_uniform_nash_and_repeated_stage_game():
    game, _ = games.shapley()
    uniform = rg.uniform_policy(game)
    assert rg.regret(game, uniform).value == pytest.approx(0.0, abs=1e-12)
    repeated = games.matrix_game(games.matrix.SHAPLEY, horizon=4)
    _, ce = games.shapley()
    np.testing.assert_allclose(rg.values(repeated, ce), 2.0)
    assert rg.regret(repeated, ce).value == pytest.approx(0.0, abs=1e-12)


def test_random_game_is_seeded_and_has_distinct_successors():
    a = games.random_game(500, (2, 3), 5, rng=np.random.default_rng(7), branching=4)
    b = games.random_game(500, (2, 3), 5, rng=np.random.default_rng(7), branching=4)
    assert (a.transitions != b.transitions).nnz == 0
    np.testing.assert_array_equal(a.rewards, b.rewards)
    assert np.all(np.diff(a.transitions.indptr) == 4)  # 4 distinct successors per row
    layered = games.random_game(40, (2,), 4, rng=np.random.default_rng(1), layered=True)
    assert layered.is_layered
    small = games.random_game(3, (2,), 2, rng=np.random.default_rng(1), branching=10)
    assert np.all(np.diff(small.transitions.indptr) == 3)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: games.theorem_4_5(1), "horizon >= 2"),
        (lambda: games.theorem_5_4(5, 0.6, 0.01, 4), "0 < beta <= 1/2"),
        (lambda: games.theorem_5_4(5, 0.1, 0.1, 4), "eps H / (2 beta)"),
        (lambda: games.theorem_5_4(5, 0.1, 0.001, 9), "floor(u) <= H"),
        (lambda: games.theorem_5_8(5, 0.9, 0.1, 4), "beta + eps H <= 1"),
        (lambda: games.matrix_game(np.zeros((3, 2, 2))), "m = ndim - 1"),
        (
            lambda: games.random_game(2, (2,), 4, rng=np.random.default_rng(0), layered=True),
            "at least one state per step",
        ),
    ],
)
def test_bad_construction_parameters(call, message):
    with pytest.raises(ValueError) as info:
        call()
    assert message in str(info.value)


@pytest.mark.parametrize(("beta", "horizon", "u"), [(0.2, 8, 4), (0.05, 8, 4), (0.0125, 16, 8)])
def test_theorem_5_4_ce_expert_is_an_exact_ce_with_the_same_coverage(beta, horizon, u):
    from regretgap.games import theorem_5_4, theorem_5_4_ce

    ce, base = theorem_5_4_ce(horizon, beta, u), theorem_5_4(horizon, beta, 0.0, u)
    assert rg.regret(ce.game, ce.expert).value == pytest.approx(0.0, abs=1e-12)
    assert rg.regret(base.game, base.expert).value == pytest.approx(base.expected["regret_expert"])
    # same dynamics and expert: coverage is the construction's
    cov_ce, cov = rg.coverage(ce.game, ce.expert), rg.coverage(base.game, base.expert)
    assert cov_ce.per_step_beta == pytest.approx(cov.per_step_beta)
    # half the bonus is not enough: agent 0 then gains by going to s_1
    weak = ce.game.rewards.copy()
    weak[0, 0] -= 0.5 * ce.expected["bonus"] * (np.arange(9) // 3 == 0)
    half = rg.MarkovGame(
        ce.game.transitions, weak, ce.game.initial, horizon=horizon, num_actions=(3, 3)
    )
    assert rg.regret(half, ce.expert).value > 0.1
