"""Correlated-equilibrium experts: incentive constraints, objectives, OpenSpiel's
max-welfare CE, and the Markov backward induction (regret within LP tolerance, every state
a stage equilibrium, H = 1 reduces to the matrix game)."""

from __future__ import annotations

import itertools
import zlib

import numpy as np
import pytest
from strategies import dense_random_game

import regretgap as rg
from regretgap import games
from regretgap.equilibria import stage_constraints

LP_TOL = 1e-7  # expert regret within the LP tolerance


def welfare(payoffs, x):
    return float((x * payoffs.sum(axis=0)).sum())


def per_agent(payoffs, x):
    return (x[None] * payoffs).reshape(payoffs.shape[0], -1).sum(axis=1)


def test_chicken_utilitarian_ce_gives_each_player_5_25():
    x = rg.correlated_equilibrium(games.matrix.CHICKEN, objective="welfare")
    np.testing.assert_allclose(per_agent(games.matrix.CHICKEN, x), [5.25, 5.25], atol=1e-8)
    np.testing.assert_allclose(x, [[0.0, 0.25], [0.25, 0.5]], atol=1e-8)


@pytest.mark.parametrize("num_actions", [(2, 2), (3, 3), (4, 2), (2, 2, 2), (3, 2, 2)])
@pytest.mark.parametrize("kind", ["ce", "cce"])
@pytest.mark.parametrize("objective", ["welfare", "egalitarian", "random"])
def test_normal_form_equilibria_have_no_regret(num_actions, kind, objective):
    # a replayable seed per case (hash() of a str varies between runs: PYTHONHASHSEED)
    rng = np.random.default_rng(zlib.crc32(f"{num_actions}-{kind}-{objective}".encode()))
    payoffs = rng.uniform(-1, 1, size=(len(num_actions), *num_actions))
    x = rg.correlated_equilibrium(payoffs, objective=objective, kind=kind, rng=rng)
    assert x.shape == num_actions and x.min() >= 0
    assert x.sum() == pytest.approx(1.0)
    game = games.matrix_game(payoffs)
    assert rg.regret(game, x.reshape(1, -1), kind=kind).value <= LP_TOL


def _pure_nash(payoffs):
    m, shape = payoffs.shape[0], payoffs.shape[1:]
    for prof in itertools.product(*(range(n) for n in shape)):
        ok = all(
            payoffs[(i, *prof)]
            >= max(payoffs[(i, *prof[:i], b, *prof[i + 1 :])] for b in range(shape[i]))
            for i in range(m)
        )
        if ok:
            yield prof


@pytest.mark.parametrize("seed", range(8))
def test_objectives_are_optimal_against_other_equilibria(seed):
    """Welfare: at least every pure Nash equilibrium's and a random-direction CE's;
    egalitarian: its worst-off agent at least as well off as under those."""
    rng = np.random.default_rng(seed)
    payoffs = rng.uniform(-1, 1, size=(2, 3, 3))
    best = rg.correlated_equilibrium(payoffs)
    fair = rg.correlated_equilibrium(payoffs, objective="egalitarian")
    others = [rg.correlated_equilibrium(payoffs, objective="random", rng=rng) for _ in range(5)]
    for prof in _pure_nash(payoffs):
        x = np.zeros((3, 3))
        x[prof] = 1.0
        others.append(x)
    for x in others:
        assert welfare(payoffs, best) >= welfare(payoffs, x) - 1e-8
        assert per_agent(payoffs, fair).min() >= per_agent(payoffs, x).min() - 1e-8
    w = np.array([2.0, 0.5])
    weighted = rg.correlated_equilibrium(payoffs, objective=w)
    for x in [*others, best]:
        assert w @ per_agent(payoffs, weighted) >= w @ per_agent(payoffs, x) - 1e-8


@pytest.mark.parametrize("num_actions", [(2, 2), (3, 3), (2, 4), (2, 2, 2)])
@pytest.mark.parametrize("seed", range(3))
def test_welfare_equals_openspiel_max_welfare_ce(num_actions, seed):
    pytest.importorskip("cvxpy", reason="OpenSpiel's jpsro needs cvxpy (test extra)")
    jpsro = pytest.importorskip("open_spiel.python.algorithms.jpsro")
    rng = np.random.default_rng(seed)
    payoffs = rng.uniform(-1, 1, size=(len(num_actions), *num_actions))
    theirs, _ = jpsro._mwce(
        payoffs, [np.ones(k, dtype=np.int32) for k in num_actions], ignore_repeats=True
    )
    ours = rg.correlated_equilibrium(payoffs)
    # CEs are not unique: compare welfare, not distributions (ECOS solves to ~1e-7)
    assert welfare(payoffs, ours) == pytest.approx(welfare(payoffs, np.asarray(theirs)), abs=1e-5)


def test_openspiel_welfare_comparison_can_fail():
    pytest.importorskip("cvxpy", reason="OpenSpiel's jpsro needs cvxpy (test extra)")
    jpsro = pytest.importorskip("open_spiel.python.algorithms.jpsro")
    payoffs = games.matrix.CHICKEN
    theirs, _ = jpsro._mwce(payoffs, [np.ones(2, dtype=np.int32)] * 2, ignore_repeats=True)
    fair_but_worse = np.array([[0.0, 0.5], [0.5, 0.0]])  # the traffic light: a CE, welfare 9
    assert welfare(payoffs, fair_but_worse) < welfare(payoffs, np.asarray(theirs)) - 1.0


@pytest.mark.parametrize(
    ("num_actions", "num_states", "horizon"),
    [((2,), 4, 3), ((2, 2), 5, 4), ((3, 2), 4, 3), ((2, 2, 2), 3, 3)],
)
@pytest.mark.parametrize("kind", ["ce", "cce"])
@pytest.mark.parametrize("objective", ["welfare", "egalitarian", "random"])
def test_markov_ce_has_no_regret_on_random_games(num_actions, num_states, horizon, kind, objective):
    rng = np.random.default_rng(7)
    game = dense_random_game(rng, num_actions, num_states, horizon)
    sigma = rg.markov_ce(game, objective=objective, kind=kind, rng=rng)
    assert sigma.shape == (horizon, num_states, game.num_joint_actions)
    assert rg.regret(game, sigma, kind=kind).value <= LP_TOL


def test_markov_ce_is_a_stage_equilibrium_at_every_state_visited_or_not():
    rng = np.random.default_rng(3)
    game = games.random_game(60, (3, 2), 4, rng=rng, branching=2, layered=True)
    sigma = rg.markov_ce(game, objective="random", rng=rng)
    vf = rg.value_functions(game, sigma)
    visited = rg.state_distribution(game, sigma) > 0
    assert not visited.all()  # the check below covers states the expert never visits
    for h in range(game.horizon):
        g = stage_constraints(np.moveaxis(vf.q[h], 0, 1), game.num_actions, "ce")
        assert (g @ sigma[h].ravel()).max() <= 1e-9


@pytest.mark.parametrize(
    "construction",
    [
        lambda: games.theorem_4_5(7).game,
        lambda: games.theorem_5_4(8, 0.2, 0.01, 6).game,
        lambda: games.theorem_5_8(6, 0.2, 0.01, 5).game,
        lambda: games.chicken()[0],
        lambda: games.shapley()[0],
        lambda: games.matrix_game(games.matrix.SHAPLEY, horizon=3),
    ],
)
def test_markov_ce_on_built_in_games(construction):
    game = construction()
    for kind in ("ce", "cce"):
        assert rg.regret(game, rg.markov_ce(game, kind=kind), kind=kind).value <= LP_TOL


def test_theorem_4_5_welfare_expert_coordinates_on_the_rewarded_path():
    c = games.theorem_4_5(8)
    sigma = rg.markov_ce(c.game)
    np.testing.assert_allclose(rg.values(c.game, sigma), 6.0)  # H - 2 rewarded states


def test_horizon_one_reduces_to_the_matrix_game_ce():
    rng = np.random.default_rng(2)
    for num_actions in [(3, 3), (2, 2, 3)]:
        payoffs = rng.uniform(-1, 1, size=(len(num_actions), *num_actions))
        sigma = rg.markov_ce(games.matrix_game(payoffs))
        x = rg.correlated_equilibrium(payoffs)
        assert welfare(payoffs, sigma[0, 0].reshape(num_actions)) == pytest.approx(
            welfare(payoffs, x), abs=1e-9
        )


def test_single_agent_markov_ce_is_an_optimal_policy():
    rng = np.random.default_rng(4)
    game = dense_random_game(rng, (3,), 5, 4)
    sigma = rg.markov_ce(game)
    optimum = rg.best_response(game, rg.uniform_policy(game), 0).value
    assert rg.values(game, sigma)[0] == pytest.approx(optimum, abs=1e-9)


def test_batching_does_not_change_the_solution():
    rng = np.random.default_rng(5)
    game = dense_random_game(rng, (2, 3), 7, 3)
    a = rg.markov_ce(game, batch_size=1)
    b = rg.markov_ce(game, batch_size=4)
    np.testing.assert_allclose(rg.values(game, a), rg.values(game, b), atol=1e-8)
    x = rg.markov_ce(game, objective="random", rng=np.random.default_rng(9))
    y = rg.markov_ce(game, objective="random", rng=np.random.default_rng(9))
    np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: rg.correlated_equilibrium(np.zeros((3, 2, 2))), "m = ndim - 1"),
        (lambda: rg.correlated_equilibrium(np.full((2, 2, 2), np.nan)), "finite"),
        (
            lambda: rg.correlated_equilibrium(games.matrix.CHICKEN, objective="nash"),
            "unknown objective 'nash'",
        ),
        (lambda: rg.correlated_equilibrium(games.matrix.CHICKEN, objective="random"), "needs rng"),
        (
            lambda: rg.correlated_equilibrium(games.matrix.CHICKEN, objective=np.ones(3)),
            r"weights must be a finite array \[m\] = \(2,\)",
        ),
        (lambda: rg.correlated_equilibrium(games.matrix.CHICKEN, kind="nash"), "'ce' or 'cce'"),
        (lambda: rg.markov_ce(games.chicken()[0], batch_size=0), "batch_size must be >= 1"),
    ],
)
def test_bad_equilibrium_arguments(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize(
    "num_actions, kwargs",
    [
        ((3, 3), {"objective": "welfare"}),
        ((2, 3, 2), {"objective": "egalitarian"}),
        ((4, 4), {"kind": "cce"}),
        ((3, 3), {"objective": np.array([1.0, 2.0])}),
    ],
)
def test_direct_highs_call_matches_linprog_exactly(num_actions, kwargs):
    # solve_stage_games hands HiGHS linprog's model and options without linprog's wrapper:
    # the solutions must be the same floats, degenerate (integer) payoffs included
    from unittest import mock

    from regretgap import equilibria

    if equilibria._highs is None:
        pytest.skip("scipy without its HiGHS bindings: linprog is the only path")
    rng = np.random.default_rng(7)
    q = np.round(2 * rng.standard_normal((70, len(num_actions), int(np.prod(num_actions)))))
    direct = equilibria.solve_stage_games(q, num_actions, batch_size=32, **kwargs)
    with mock.patch.object(equilibria, "_highs", None):
        via_linprog = equilibria.solve_stage_games(q, num_actions, batch_size=32, **kwargs)
    np.testing.assert_array_equal(direct, via_linprog)
